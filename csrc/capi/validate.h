// The C API's argument checks on raw pointers and sizes (nnfast/include/nnfast/nnfast.h). Each
// returns NNFAST_OK or an error status after writing the calling thread's message (last_error), so
// every entry point checks everything before a kernel touches memory. No Python, no kernels.
#pragma once
#include <cstdint>

#include "nnfast/nnfast.h"

namespace nnfast {
namespace capi {

// The function being checked, for messages: "dense_forward_f32: w must not be NULL".
struct Ctx {
    const char* fn;
    const char* dtype;  // "f32", "f64", or null for a function without a dtype
};

// Writes "fn_dtype: <printf message>" as the thread's last error and returns status.
int fail(const Ctx& c, int status, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char* last_error();
const char* status_message(int status);

// The largest element count the API accepts: any count times 16 bytes fits in int64_t.
constexpr int64_t kMaxElements = INT64_MAX / 16;

// A memory range an argument covers, named for messages (index >= 0: "tensors[index].name").
struct Region {
    uintptr_t begin, end;
    const char* name;
    int64_t index;
};

template <class T>
Region region(const T* p, int64_t count, const char* name, int64_t index = -1) {
    const auto b = reinterpret_cast<uintptr_t>(p);
    return Region{b, p ? b + uintptr_t(count) * sizeof(T) : b, name, index};
}

// The checks below return at once when the argument is fine (inline: an optimizer step makes about
// ten of them); the *_failed functions write the message.
int nonnegative_failed(const Ctx& c, int64_t v, const char* name);
int present_failed(const Ctx& c, const char* name);
int in_range_failed(const Ctx& c, double v, const char* name, double lo, double hi, bool hi_open);

// ERR_SIZE unless 0 <= v.
inline int nonnegative(const Ctx& c, int64_t v, const char* name) {
    return v < 0 ? nonnegative_failed(c, v, name) : NNFAST_OK;
}
// *out = a * b (both >= 0); ERR_SIZE past kMaxElements.
int product(const Ctx& c, int64_t a, int64_t b, const char* what, int64_t* out);
// ERR_NULL_POINTER when p is NULL and needed.
inline int present(const Ctx& c, const void* p, bool needed, const char* name) {
    return needed && p == nullptr ? present_failed(c, name) : NNFAST_OK;
}
// ERR_ACTIVATION unless act is an activation code (and not softmax when !softmax_ok).
int activation(const Ctx& c, int act, bool softmax_ok = true);
// ERR_VALUE unless lo <= v <= hi (v < hi when hi_open); NaN fails.
inline int in_range(const Ctx& c, double v, const char* name, double lo, double hi, bool hi_open = false) {
    if (!(lo <= v && v <= hi) || (hi_open && v == hi)) return in_range_failed(c, v, name, lo, hi, hi_open);
    return NNFAST_OK;
}
// ERR_ALIASING when out shares a byte with in.
int disjoint(const Ctx& c, const Region& out, const Region& in);
// ERR_ALIASING when out overlaps in other than exactly (same start and size: an in-place call).
int same_or_disjoint(const Ctx& c, const Region& out, const Region& in);
// ERR_ALIASING when two written regions overlap or a written one overlaps a read one. May sort
// written in place.
int no_overlaps(const Ctx& c, Region* written, int64_t nw, const Region* read, int64_t nr);

}  // namespace capi
}  // namespace nnfast

// Returns from the enclosing function with a check's status unless it is NNFAST_OK.
#define NNFAST_CHECK(expr)                          \
    do {                                            \
        const int nnfast_status_ = (expr);          \
        if (nnfast_status_ != NNFAST_OK) return nnfast_status_; \
    } while (0)
