"""The long-running processes: worker and scheduler loops that ride out outages, obey signals and reload.

- `build`: a process's pipeline for a deployment (broker, store, transports)
- `outages`: one line when the store or the broker goes away, one when it is back, backoff in between
- `probes`: asking the store and the broker, cheaply, whether they answer
- `signals`: SIGTERM and SIGINT stop a process gracefully, SIGHUP asks it to reload its configuration
- `reload`: a new configuration, checked before it replaces the running one
- `worker`, `scheduler`: the two processes' loops; `supervisor`: ``--processes N`` worker processes
- `heartbeats`: which processes are alive, under the namespace; `status`: `tidings status`
- `metrics`: Prometheus metrics on ``--metrics-port``
- `pidfile`: ``--pid-file``
"""
