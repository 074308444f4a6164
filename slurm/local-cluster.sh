#!/usr/bin/env bash
# A real single-node SLURM cluster on 127.0.0.1 (Debian's slurmctld, slurmd, slurmdbd on a private
# MariaDB, munge), for tests and for trying a suite before a real cluster. Needs root; starts
# without systemd; everything it writes lives under $STATE (config, logs, pid files, spool, DB).
#
#   slurm/local-cluster.sh start      install missing packages, write configs, start, wait for idle
#   slurm/local-cluster.sh stop       cancel all jobs, stop the daemons this script started (by PID)
#   slurm/local-cluster.sh status     each daemon with its PID, then sinfo and squeue
#   slurm/local-cluster.sh selftest   srun, sbatch, wait for COMPLETED, check sacct
#   slurm/local-cluster.sh clean      stop, then delete $STATE (and the /etc/slurm symlink to it)
#
# Knobs (environment):
#   LADABENCH_SLURM_STATE       state folder (default /var/tmp/ladabench-slurm)
#   LADABENCH_SLURM_ACCOUNTING  slurmdbd (default; real sacct) | none (no MariaDB: submitit jobs
#                               that die without a result, e.g. scancel, then wait forever)
#   LADABENCH_SLURM_CPUS        CPUs the node advertises (default: the real count, at least 4)
#   LADABENCH_SLURM_GPUS        fake GPUs (character devices, major 195), default 0
#   LADABENCH_SLURM_DB_PORT     MariaDB port on 127.0.0.1 (default 3307; never touches 3306)
#   LADABENCH_SLURM_INSTALL     auto (default: install what is missing) | never | force
#   LADABENCH_SLURM_TIMEOUT     seconds to wait for each daemon / the node (default 60)
# Clients need SLURM_CONF=$STATE/etc/slurm.conf; `start` also links /etc/slurm/slurm.conf to it
# when that path is free (or already a link), so every process finds the cluster.
# Why some slurm.conf settings differ from Slurm's defaults:
#   AuthInfo=cred_expire=10   a requeued job waits cred_expire + 1 s to restart (default: 121 s)
#   KillWait=5                submitit ignores SIGTERM: cancelled/requeued jobs would run 30 s on
#   DefMemPerCPU=1024         without it a job with no --mem takes all memory: one job at a time
#   sched_interval=2,bf_interval=2   pending and requeued jobs start within seconds, not ~30 s
#   ReturnToService=2         a DOWN node is usable as soon as slurmd registers
#   SlurmdParameters=config_overrides   advertise more CPUs than exist without draining the node
#   MinJobAge=300             finished jobs stay visible to squeue for a while
#   slurmdbd accounting       submitit polls sacct; without accounting, a job that dies without
#                             a result (scancel, OOM, time limit) is never seen as done
#   proctrack/linuxproc, task/none   no cgroup set-up needed; MailProg=/bin/true silences mail
set -euo pipefail

STATE=${LADABENCH_SLURM_STATE:-/var/tmp/ladabench-slurm}
ACCOUNTING=${LADABENCH_SLURM_ACCOUNTING:-slurmdbd}
CPUS=${LADABENCH_SLURM_CPUS:-}
GPUS=${LADABENCH_SLURM_GPUS:-0}
DB_PORT=${LADABENCH_SLURM_DB_PORT:-3307}
INSTALL=${LADABENCH_SLURM_INSTALL:-auto}
TIMEOUT=${LADABENCH_SLURM_TIMEOUT:-60}

ETC=$STATE/etc
LOG=$STATE/log
RUN=$STATE/run
CONF=$ETC/slurm.conf
export SLURM_CONF=$CONF

log() { echo "local-cluster: $*" >&2; }
die() { log "error: $*"; exit 1; }

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for DESCRIPTION SECONDS COMMAND...: poll until COMMAND succeeds
wait_for() {
    local what=$1 limit=$2
    shift 2
    local end=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        ((SECONDS < end)) || die "$what not ready after ${limit}s; logs in $LOG/"
        sleep 0.5
    done
}

# launch NAME COMMAND...: a daemon in its own session, stdin from /dev/null, output to a log
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOG/$name.out" 2>&1 &
}

check_settings() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (it starts munged, slurmctld, slurmd)"
    [[ $ACCOUNTING == slurmdbd || $ACCOUNTING == none ]] ||
        die "LADABENCH_SLURM_ACCOUNTING: expected slurmdbd or none, got '$ACCOUNTING'"
    [[ $INSTALL == auto || $INSTALL == never || $INSTALL == force ]] ||
        die "LADABENCH_SLURM_INSTALL: expected auto, never or force, got '$INSTALL'"
    [[ $GPUS =~ ^[0-9]+$ ]] || die "LADABENCH_SLURM_GPUS: expected a count, got '$GPUS'"
    [[ -z $CPUS || $CPUS =~ ^[1-9][0-9]*$ ]] || die "LADABENCH_SLURM_CPUS: expected a count, got '$CPUS'"
}

# ---------------------------------------------------------------- packages
install_packages() {
    local pkgs=(slurmctld slurmd slurm-client munge) missing=() p
    [[ $ACCOUNTING == slurmdbd ]] && pkgs+=(slurmdbd mariadb-server)
    for p in "${pkgs[@]}"; do
        if [[ $INSTALL == force ]] ||
            ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    ((${#missing[@]})) || return 0
    [[ $INSTALL == never ]] && die "missing packages: ${missing[*]} (LADABENCH_SLURM_INSTALL=never)"
    log "installing ${missing[*]}"
    local created_policy=0
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        # package scripts must not try to start daemons (no init system here)
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 0755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
    local rc=0
    DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install "${missing[@]}" >>"$LOG/apt.log" 2>&1 || {
        apt-get -q -o DPkg::Lock::Timeout=300 update >>"$LOG/apt.log" 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install "${missing[@]}" >>"$LOG/apt.log" 2>&1
    } || rc=$?
    ((created_policy)) && rm -f /usr/sbin/policy-rc.d
    ((rc == 0)) || die "apt-get install ${missing[*]} failed; see $LOG/apt.log"
}

# ---------------------------------------------------------------- configuration
write_configs() {
    local hw real_cpus mem cpus
    hw=$(slurmd -C | head -n 1)
    real_cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
    mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
    cpus=${CPUS:-$((real_cpus > 4 ? real_cpus : 4))}
    mem=$((mem * 9 / 10))
    local node="NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus Boards=1 SocketsPerBoard=1"
    node+=" CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN"
    local gres_types=""
    if ((GPUS > 0)); then
        local i
        mkdir -p "$STATE/dev"
        for ((i = 0; i < GPUS; i++)); do
            [[ -c $STATE/dev/fakegpu$i ]] || mknod "$STATE/dev/fakegpu$i" c 195 "$i"
        done
        node+=" Gres=gpu:$GPUS"
        gres_types="GresTypes=gpu"
        echo "NodeName=localhost Name=gpu File=$STATE/dev/fakegpu[0-$((GPUS - 1))]" >"$ETC/gres.conf"
    else
        rm -f "$ETC/gres.conf"
    fi
    local acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobAcctGatherType=jobacct_gather/linux"
    [[ $ACCOUNTING == none ]] && acct="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
    cat >"$CONF" <<EOF
# written by slurm/local-cluster.sh (the reasons for the settings are in its header)
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=cred_expire=10
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobCompType=jobcomp/none
$acct
MinJobAge=300
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
ReturnToService=2
KillWait=5
InactiveLimit=0
MailProg=/bin/true
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE/spool/ctld
SlurmdSpoolDir=$STATE/spool/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmdParameters=config_overrides
$gres_types
$node
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    (
        umask 077 # slurmdbd refuses a group/world readable config
        cat >"$ETC/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$LOG/slurmdbd.log
PidFile=$RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=root
StorageLoc=slurm_acct_db
EOF
    )
    chmod 0600 "$ETC/slurmdbd.conf"
    if [[ ! -e /etc/slurm/slurm.conf || -L /etc/slurm/slurm.conf ]]; then
        mkdir -p /etc/slurm
        ln -sfn "$CONF" /etc/slurm/slurm.conf
    else
        log "/etc/slurm/slurm.conf is a real file: export SLURM_CONF=$CONF in every client"
    fi
}

# ---------------------------------------------------------------- daemons
munge_ok() { munge -n | unmunge; }

start_munge() {
    if munge_ok >/dev/null 2>&1; then
        return 0 # a running munged (ours from an earlier start, or the system's) is reused
    fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null ||
            dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
        chown munge:munge /etc/munge/munge.key
        chmod 0600 /etc/munge/munge.key
    fi
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged >>"$LOG/munged.out" 2>&1
    wait_for munged "$TIMEOUT" munge_ok
    cp /run/munge/munged.pid "$RUN/munged.pid" # only a munged we started is stopped by `stop`
}

mariadb_ok() { mariadb --no-defaults -uroot -h127.0.0.1 -P"$DB_PORT" -e 'select 1'; }

start_mariadb() {
    pid_alive "$RUN/mariadbd.pid" && return 0
    if [[ ! -d $STATE/mysql/mysql ]]; then
        mariadb-install-db --no-defaults --user=root --datadir="$STATE/mysql" \
            --auth-root-authentication-method=normal --skip-test-db >>"$LOG/mariadb-install.log" 2>&1 ||
            die "mariadb-install-db failed; see $LOG/mariadb-install.log"
    fi
    launch mariadbd /usr/sbin/mariadbd --no-defaults --user=root --datadir="$STATE/mysql" \
        --socket="$RUN/mariadbd.sock" --port="$DB_PORT" --bind-address=127.0.0.1 \
        --skip-name-resolve --pid-file="$RUN/mariadbd.pid" --log-error="$LOG/mariadbd.log" \
        --innodb-buffer-pool-size=512M --innodb-lock-wait-timeout=900
    wait_for MariaDB "$TIMEOUT" mariadb_ok
}

start_slurmdbd() {
    pid_alive "$RUN/slurmdbd.pid" && return 0
    launch slurmdbd /usr/sbin/slurmdbd -D
    wait_for slurmdbd "$TIMEOUT" sacctmgr -n -P show cluster
}

ctld_up() { scontrol ping | grep -q 'is UP'; }

node_ready() {
    local state
    state=$(sinfo -h -n localhost -o %T)
    [[ $state =~ ^(idle|mixed|allocated|completing)$ ]]
}

wait_node() {
    local end=$((SECONDS + TIMEOUT)) resumed=0 state
    while ! node_ready 2>/dev/null; do
        state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        if [[ $state =~ drain && $resumed == 0 ]]; then
            log "node is $state; resuming it once ($(sinfo -h -R -o %E 2>/dev/null || true))"
            scontrol update NodeName=localhost State=RESUME || true
            resumed=1
        fi
        ((SECONDS < end)) || die "node not idle after ${TIMEOUT}s (state '$state'); logs in $LOG/"
        sleep 0.5
    done
}

start() {
    check_settings
    mkdir -p "$ETC" "$LOG" "$RUN" "$STATE/spool/ctld" "$STATE/spool/d"
    if pid_alive "$RUN/slurmctld.pid" && pid_alive "$RUN/slurmd.pid" && node_ready 2>/dev/null; then
        log "already running (state $STATE)"
        return 0
    fi
    install_packages
    pid_alive "$RUN/slurmctld.pid" || write_configs
    start_munge
    if [[ $ACCOUNTING == slurmdbd ]]; then
        start_mariadb
        start_slurmdbd
    fi
    pid_alive "$RUN/slurmctld.pid" || launch slurmctld /usr/sbin/slurmctld -D -f "$CONF"
    wait_for slurmctld "$TIMEOUT" ctld_up
    pid_alive "$RUN/slurmd.pid" || launch slurmd /usr/sbin/slurmd -D -f "$CONF" -N localhost
    wait_node
    log "up: partition debug on localhost; export SLURM_CONF=$CONF"
}

# stop_pidfile NAME PIDFILE: TERM, wait up to 30 s, then KILL
stop_pidfile() {
    local name=$1 file=$2 pid i
    pid_alive "$file" || {
        rm -f "$file"
        return 0
    }
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name (pid $pid) ignored TERM for 30 s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

cancel_jobs() {
    local ids end=$((SECONDS + TIMEOUT))
    ids=$(squeue -h -o %A 2>/dev/null || true)
    [[ -n $ids ]] || return 0
    # shellcheck disable=SC2086  # one argument per job id
    scancel $ids 2>/dev/null || true
    while [[ -n $(squeue -h -t running,completing,configuring -o %A 2>/dev/null || true) ]]; do
        ((SECONDS < end)) || {
            log "jobs still running after ${TIMEOUT}s; stopping anyway"
            return 0
        }
        sleep 0.5
    done
}

stop() {
    [[ -d $RUN ]] || return 0
    if pid_alive "$RUN/slurmctld.pid"; then
        cancel_jobs
    fi
    stop_pidfile slurmd "$RUN/slurmd.pid"
    stop_pidfile slurmctld "$RUN/slurmctld.pid"
    stop_pidfile slurmdbd "$RUN/slurmdbd.pid"
    stop_pidfile mariadbd "$RUN/mariadbd.pid"
    stop_pidfile munged "$RUN/munged.pid"
}

status() {
    local name file
    for name in munged mariadbd slurmdbd slurmctld slurmd; do
        file=$RUN/$name.pid
        if pid_alive "$file"; then
            echo "$name: running (pid $(cat "$file"))"
        elif [[ $name == munged ]] && munge_ok >/dev/null 2>&1; then
            echo "munged: running (not started by this script)"
        else
            echo "$name: not running"
        fi
    done
    if pid_alive "$RUN/slurmctld.pid"; then
        sinfo
        squeue
    fi
}

selftest() {
    local out jid state end=$((SECONDS + TIMEOUT))
    out=$(timeout "$TIMEOUT" srun -N1 -n1 hostname) || die "srun hostname failed"
    log "srun hostname: $out"
    jid=$(sbatch --parsable -o "$LOG/selftest-%j.out" --wrap 'echo selftest; sleep 1')
    log "sbatch job $jid submitted"
    while :; do
        state=$(scontrol -o show job "$jid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        [[ $state == COMPLETED ]] && break
        [[ $state =~ ^(FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY)$ ]] && die "job $jid ended $state"
        ((SECONDS < end)) || die "job $jid not COMPLETED after ${TIMEOUT}s (state '$state')"
        sleep 0.5
    done
    if [[ $ACCOUNTING == slurmdbd ]]; then
        # accounting records arrive asynchronously
        wait_for "sacct record of job $jid" "$TIMEOUT" \
            bash -c "sacct -n -P -X -j $jid -o State | grep -q COMPLETED"
        log "sacct: job $jid COMPLETED"
    fi
    log "selftest passed"
}

clean() {
    stop
    if [[ -L /etc/slurm/slurm.conf && $(readlink /etc/slurm/slurm.conf) == "$STATE"/* ]]; then
        rm -f /etc/slurm/slurm.conf
    fi
    rm -rf "$STATE"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
selftest) selftest ;;
clean) clean ;;
*)
    echo "usage: $0 start|stop|status|selftest|clean (knobs: see the top of this file)" >&2
    exit 2
    ;;
esac
