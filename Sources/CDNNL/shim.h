#include <dnnl.h>
// oneDNN (Debian's libdnnl) runs its primitives on OpenMP threads: the engine sets their number.
void omp_set_num_threads(int);
