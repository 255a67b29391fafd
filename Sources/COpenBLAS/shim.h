// OpenBLAS's cblas.h (Debian: libopenblas-dev). It declares cblas_sgemm and
// openblas_set_num_threads / openblas_get_num_threads / openblas_get_config.
#include <cblas.h>
