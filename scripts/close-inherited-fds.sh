# Sourced by the Ceph scripts: closes every descriptor beyond 0-2 the caller left open. The
# daemons would inherit them, and a caller waiting for EOF on one (Foundation's Process watches
# its child through a socket) would wait for the daemons to exit.
for fd_path in /proc/$$/fd/*; do
    fd=${fd_path##*/}
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
