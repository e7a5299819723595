"""Development data: the みどり市 demo world, the synthetic municipality for load tests and the
benchmarks' commands. Installed only where DEBUG is on or DEVDATA=true (jusou/settings.py); it may
import every app, and no app imports it."""
