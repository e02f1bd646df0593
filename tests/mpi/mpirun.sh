# Sourced by the MPI test scripts: finds mpirun (exit 77 = skipped when
# missing) and sets up a loopback-only, container-friendly Open MPI:
#   - as root, Open MPI refuses to start without --allow-run-as-root;
#   - --oversubscribe: more ranks than cores is fine for a test;
#   - --mca btl self,vader: shared memory and self only, no network probing;
#   - single_copy_mechanism none: vader's CMA/XPMEM single-copy needs
#     ptrace rights that containers often lack (it then aborts the job);
#   - pml ob1: the plain point-to-point layer over those BTLs (no UCX).
MPIRUN=${MPIRUN:-$(command -v mpirun || true)}
if [ -z "$MPIRUN" ] || [ ! -x "$MPIRUN" ]; then
  echo "mpirun not found: skipping (install openmpi-bin)"
  exit 77
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
# Quiet the "no high-performance network" notices of a loopback run.
export OMPI_MCA_btl_base_warn_component_unused=0
mpirun_np() {
  np=$1; shift
  "$MPIRUN" --allow-run-as-root --oversubscribe -np "$np" \
    --mca btl self,vader --mca pml ob1 "$@"
}
