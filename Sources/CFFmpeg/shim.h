#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libavutil/imgutils.h>
#include <libavutil/error.h>

// AVERROR(EAGAIN) and AVERROR_EOF are function-like or tag macros that Swift cannot import.
static inline int cffmpeg_error_again(void) { return AVERROR(EAGAIN); }
static inline int cffmpeg_error_eof(void) { return AVERROR_EOF; }
static inline long long cffmpeg_no_pts(void) { return AV_NOPTS_VALUE; }
