#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, everything (config, munge key, state, spool, logs) in one
# folder, for testing `vpeft bench --emit slurm` against a real scheduler:
#   slurm_cluster.sh start    install slurm-wlm and munge if missing, start munged, slurmctld and
#                             slurmd, wait until the node is idle; prints the SLURM_CONF to export
#   slurm_cluster.sh status   sinfo and squeue of the running cluster
#   slurm_cluster.sh stop     stop the daemons and remove the folder
# The folder is $VPEFT_SLURM_DIR (default /tmp/vpeft-slurm); slurmctld listens on
# $VPEFT_SLURM_PORT (default 6817) and slurmd on the port after it.
# It needs root: slurmd starts jobs as their submitting user, and Debian's daemons expect it.
# No cgroups (containers rarely delegate them): processes are tracked through /proc
# (proctrack/linuxproc), tasks are not bound (task/none). No slurmdbd either, so there is no
# accounting database: `sacct --completion` reads job states from the job-completion text file
# (jobcomp/filetxt) — Slurm 22.05 has no accounting_storage/filetxt, and 23.02 drops
# `sacct --completion`, where a slurmdbd would be needed.
set -euo pipefail
dir="${VPEFT_SLURM_DIR:-/tmp/vpeft-slurm}"
port="${VPEFT_SLURM_PORT:-6817}"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

die() { echo "slurm_cluster: $*" >&2; exit 1; }

install_missing() {
    local missing=()
    for tool in slurmctld slurmd sbatch munged; do command -v "$tool" >/dev/null || missing=(slurm-wlm munge); done
    [ ${#missing[@]} -eq 0 ] && return
    echo "slurm_cluster: installing slurm-wlm munge"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null
}

# The pid in a daemon's pid file when that process is alive.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_config() {
    # slurmd refuses to start on a node that has less memory than declared: take what it measures.
    local memory
    memory=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    cat >"$conf" <<EOF
ClusterName=vpeft
SlurmctldHost=localhost
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/run/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
ReturnToService=2
# Seconds between SIGTERM and SIGKILL when a job is cancelled, requeued or out of time: the
# trainer writes its checkpoint in well under that.
KillWait=10
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
}

start() {
    [ "$(id -u)" = 0 ] || die "needs root (slurmd starts jobs as their user; munged and slurmctld run as root here)"
    install_missing
    if alive "$dir/slurmctld.pid"; then die "already running in $dir (stop it first)"; fi
    rm -rf "$dir"
    mkdir -p "$dir"/{state,spool,log,munge,run}
    # munged wants its key private and every folder above its socket open to all users.
    chmod 755 "$dir" "$dir/run"
    chmod 700 "$dir/munge"
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge/munge.key"
    write_config
    munged --key-file="$dir/munge/munge.key" --socket="$dir/run/munge.socket" --pid-file="$dir/run/munged.pid" \
           --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" \
        || die "munged did not start: $(tail -3 "$dir/log/munged.log" 2>/dev/null)"
    slurmctld -f "$conf" || die "slurmctld did not start: $(tail -5 "$dir/log/slurmctld.log" 2>/dev/null)"
    slurmd -f "$conf" -N localhost || die "slurmd did not start: $(tail -5 "$dir/log/slurmd.log" 2>/dev/null)"
    local state=""
    for _ in $(seq 60); do
        state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
        [ "$state" = idle ] && break
        sleep 0.5
    done
    if [ "$state" != idle ]; then
        echo "--- slurmctld.log"; tail -15 "$dir/log/slurmctld.log" || true
        echo "--- slurmd.log"; tail -15 "$dir/log/slurmd.log" || true
        die "node localhost is '${state:-unknown}', not idle, after 30 s"
    fi
    sinfo
    echo "slurm_cluster: up in $dir — export SLURM_CONF=$conf"
}

status() {
    alive "$dir/slurmctld.pid" || die "not running in $dir"
    sinfo
    squeue
}

stop() {
    # slurmd first, so it does not report the controller gone; munged last, both need it.
    for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/run/munged.pid"; do
        alive "$pidfile" || continue
        local pid
        pid=$(cat "$pidfile")
        kill "$pid"
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    done
    rm -rf "$dir"
    echo "slurm_cluster: stopped, $dir removed"
}

case "${1:-}" in
    start) start ;;
    status) status ;;
    stop) stop ;;
    *) die "usage: $0 start|status|stop" ;;
esac
