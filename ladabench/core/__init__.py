"""The torch-free base every other layer builds on: errors, the generic registry, atomic file
I/O, strict config schemas, the run-directory contract and metric-protocol comparison.

Nothing here imports torch (a test asserts it), so result readers, the report and the gate can
use all of it.
"""
