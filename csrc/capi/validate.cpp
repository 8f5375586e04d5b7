#include "capi/validate.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace nnfast {
namespace capi {
namespace {

thread_local char g_message[384] = "";

// "tensors[3].param" or "w".
void describe(const Region& r, char* buf, size_t n) {
    if (r.index < 0) std::snprintf(buf, n, "%s", r.name);
    else std::snprintf(buf, n, "tensors[%lld].%s", static_cast<long long>(r.index), r.name);
}

bool overlap(const Region& a, const Region& b) {
    return a.begin < a.end && b.begin < b.end && a.begin < b.end && b.begin < a.end;
}

int clash(const Ctx& c, const Region& out, const Region& other, const char* why) {
    char a[64], b[64];
    describe(out, a, sizeof a);
    describe(other, b, sizeof b);
    return fail(c, NNFAST_ERR_ALIASING, "%s must not share memory with %s%s", a, b, why);
}

// Whether two written regions, or a written and a read one, share a byte (pairwise).
bool any_overlap(const Region* written, int64_t nw, const Region* read, int64_t nr) {
    for (int64_t i = 0; i < nw; ++i) {
        for (int64_t j = i + 1; j < nw; ++j)
            if (overlap(written[i], written[j])) return true;
        for (int64_t r = 0; r < nr; ++r)
            if (overlap(written[i], read[r])) return true;
    }
    return false;
}

}  // namespace

int fail(const Ctx& c, int status, const char* format, ...) {
    const int head = c.dtype ? std::snprintf(g_message, sizeof g_message, "%s_%s: ", c.fn, c.dtype)
                             : std::snprintf(g_message, sizeof g_message, "%s: ", c.fn);
    va_list args;
    va_start(args, format);
    std::vsnprintf(g_message + head, sizeof g_message - size_t(head), format, args);
    va_end(args);
    return status;
}

const char* last_error() { return g_message; }

const char* status_message(int status) {
    switch (status) {
        case NNFAST_OK: return "ok";
        case NNFAST_ERR_NULL_POINTER: return "a required pointer is NULL";
        case NNFAST_ERR_SIZE: return "a size or leading dimension is negative, too small or too large";
        case NNFAST_ERR_ALIASING: return "an output overlaps an input or another output";
        case NNFAST_ERR_ACTIVATION: return "unknown activation code, or one this function does not take";
        case NNFAST_ERR_LABEL: return "a class label is outside [0, classes)";
        case NNFAST_ERR_VALUE: return "a hyperparameter, rate, convention or thread count is out of range";
        case NNFAST_ERR_VERSION: return "a struct's size field is not one this nnfast knows";
        case NNFAST_ERR_INTERNAL: return "nnfast failed internally (out of memory?)";
        case NNFAST_ERR_INDEX: return "an index is outside [0, rows)";
        default: return "unknown nnfast status code";
    }
}

int nonnegative_failed(const Ctx& c, int64_t v, const char* name) {
    return fail(c, NNFAST_ERR_SIZE, "%s must be >= 0, got %lld", name, static_cast<long long>(v));
}

int product(const Ctx& c, int64_t a, int64_t b, const char* what, int64_t* out) {
    if (a != 0 && b > kMaxElements / a)
        return fail(c, NNFAST_ERR_SIZE, "%s has %lld x %lld elements, more than %lld", what,
                    static_cast<long long>(a), static_cast<long long>(b), static_cast<long long>(kMaxElements));
    *out = a * b;
    return NNFAST_OK;
}

int present_failed(const Ctx& c, const char* name) {
    return fail(c, NNFAST_ERR_NULL_POINTER, "%s must not be NULL", name);
}

int activation(const Ctx& c, int act, bool softmax_ok) {
    if (act < NNFAST_LINEAR || act > NNFAST_SOFTMAX)
        return fail(c, NNFAST_ERR_ACTIVATION,
                    "act must be one of NNFAST_LINEAR (0), RELU, LEAKY_RELU, SIGMOID, TANH, SOFTMAX (5), got %d", act);
    if (act == NNFAST_SOFTMAX && !softmax_ok)
        return fail(c, NNFAST_ERR_ACTIVATION, "act must be element-wise (not NNFAST_SOFTMAX), got %d", act);
    return NNFAST_OK;
}

int in_range_failed(const Ctx& c, double v, const char* name, double lo, double hi, bool hi_open) {
    return fail(c, NNFAST_ERR_VALUE, "%s must be in [%g, %g%s, got %g", name, lo, hi, hi_open ? ")" : "]", v);
}

int disjoint(const Ctx& c, const Region& out, const Region& in) {
    return overlap(out, in) ? clash(c, out, in, "") : NNFAST_OK;
}

int same_or_disjoint(const Ctx& c, const Region& out, const Region& in) {
    if (!overlap(out, in) || (out.begin == in.begin && out.end == in.end)) return NNFAST_OK;
    return clash(c, out, in, " (only an exact alias, an in-place call, is allowed)");
}

int no_overlaps(const Ctx& c, Region* written, int64_t nw, const Region* read, int64_t nr) {
    // A step's few regions: every pair compared costs less than sorting them; only when a pair
    // overlaps does the sorted pass below run, to name the same pair as it always does.
    if (nw <= 8 && nr <= 8 && !any_overlap(written, nw, read, nr)) return NNFAST_OK;
    auto by_begin = [](const Region& x, const Region& y) { return x.begin < y.begin; };
    // Empty regions overlap nothing: move them out of the way.
    nw = std::remove_if(written, written + nw, [](const Region& x) { return x.begin == x.end; }) - written;
    // Few regions in the common case: insertion sort costs less there than std::sort's setup.
    if (nw <= 32) {
        for (int64_t i = 1; i < nw; ++i)
            for (int64_t j = i; j > 0 && by_begin(written[j], written[j - 1]); --j) std::swap(written[j], written[j - 1]);
    } else {
        std::sort(written, written + nw, by_begin);
    }
    // Sorted by start, the written regions are disjoint iff each ends before the next starts.
    for (int64_t i = 1; i < nw; ++i)
        if (overlap(written[i - 1], written[i])) return clash(c, written[i], written[i - 1], " (both are written)");
    // Disjoint and sorted: a read region can only meet the last one starting at or before it, or the next.
    for (int64_t r = 0; r < nr; ++r) {
        const Region* next = std::upper_bound(written, written + nw, read[r], by_begin);
        if (next != written + nw && overlap(*next, read[r])) return clash(c, *next, read[r], " (it is written)");
        if (next != written && overlap(*(next - 1), read[r])) return clash(c, *(next - 1), read[r], " (it is written)");
    }
    return NNFAST_OK;
}

}  // namespace capi
}  // namespace nnfast
