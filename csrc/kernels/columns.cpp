// Column bookkeeping of a weight matrix (kernels/columns.h). The comparison works on the bits
// (unsigned integers of the element's width), so that a NaN equals itself and -0 differs from +0.
#include "kernels/columns.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "parallel/parallel_for.h"

namespace nnfast {
namespace NNFAST_ISA_NS {

template <class T>
void column_changes(uint8_t* changed, T* snapshot, T* gathered, const T* w, const uint8_t* watch,
                    const uint8_t* capture, const int64_t* picked, int64_t rows, int64_t cols, int64_t m) {
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
    std::fill(changed, changed + cols, uint8_t(0));
    const bool any_watched = std::any_of(watch, watch + cols, [](uint8_t v) { return v != 0; });
    const bool any_captured = std::any_of(capture, capture + cols, [](uint8_t v) { return v != 0; });
    if (!any_watched && !any_captured) {
        if (m > 0) gather_columns(gathered, w, picked, rows, cols, m);
        return;
    }
    std::vector<Bits> watch_mask(static_cast<size_t>(cols)), capture_mask(static_cast<size_t>(cols));
    constexpr int64_t kLine = 64 / int64_t(sizeof(T));  // elements in a cache line (of a row that starts one)
    std::vector<uint8_t> captured_in_line(static_cast<size_t>((cols + kLine - 1) / kLine), 0);
    for (int64_t j = 0; j < cols; ++j) {
        watch_mask[size_t(j)] = watch[j] ? ~Bits(0) : Bits(0);
        capture_mask[size_t(j)] = capture[j] ? ~Bits(0) : Bits(0);
        captured_in_line[size_t(j / kLine)] |= capture[j];
    }
    // Each thread takes whole rows in order, as the optimizers' split of the same weights does, so
    // that it reads the lines its own core has just updated; each keeps its own differences (a row
    // of cols), OR-ed together after. The picked columns of a row are gathered while the row is in
    // L1 (a second pass would fetch its lines from L3 again: at batch 32 on the 784-128-10 MLP the
    // gather of 10 columns took longer than the product of them). The inner loops are loads, xor,
    // and, or (and a blend and store where a column is captured), which the compiler vectorizes.
    // The snapshot is written only in the lines that hold a captured column, so that a step whose
    // watched columns all stand still only reads, and one that opens a window or two writes a few
    // lines a row.
    const int64_t lines = (rows * cols * int64_t(sizeof(T)) * 2 + 63) / 64;
    const int nt = int(std::min<int64_t>(threads_for(lines), rows));
    std::vector<Bits> diff(size_t(std::max(nt, 1) * cols), Bits(0));
    run_on_threads(std::max(nt, 1), [&](int tid, int threads) {
        int64_t r0, r1;
        partition(rows, threads, tid, 1, &r0, &r1);
        Bits* mine = diff.data() + tid * cols;
        for (int64_t i = r0; any_watched && i < r1; ++i) {
            const T* from = w + i * cols;
            const T* was_row = snapshot + i * cols;
            for (int64_t j = 0; j < cols; ++j) {
                Bits now, was;
                std::memcpy(&now, from + j, sizeof(Bits));
                std::memcpy(&was, was_row + j, sizeof(Bits));
                mine[j] |= (now ^ was) & watch_mask[size_t(j)];
            }
            gather_columns(gathered + i * m, from, picked, 1, cols, m);
        }
        if (!any_watched && m > 0) gather_columns(gathered + r0 * m, w + r0 * cols, picked, r1 - r0, cols, m);
        for (int64_t i = r0; any_captured && i < r1; ++i) {
            const T* from = w + i * cols;
            T* to = snapshot + i * cols;
            for (int64_t j0 = 0; j0 < cols; j0 += kLine) {  // only the lines that hold a captured column
                if (!captured_in_line[size_t(j0 / kLine)]) continue;
                const int64_t j1 = std::min(j0 + kLine, cols);
                for (int64_t j = j0; j < j1; ++j) {
                    Bits now, was;
                    std::memcpy(&now, from + j, sizeof(Bits));
                    std::memcpy(&was, to + j, sizeof(Bits));
                    const Bits kept = (now & capture_mask[size_t(j)]) | (was & ~capture_mask[size_t(j)]);
                    std::memcpy(to + j, &kept, sizeof(Bits));
                }
            }
        }
    });
    for (int t = 0; t < std::max(nt, 1); ++t)
        for (int64_t j = 0; j < cols; ++j) changed[j] |= diff[size_t(t * cols + j)] != 0;
}

template <class T>
void gather_columns(T* out, const T* w, const int64_t* picked, int64_t rows, int64_t n, int64_t m) {
    for (int64_t i = 0; i < rows; ++i) {
        const T* from = w + i * n;
        T* to = out + i * m;
        for (int64_t j = 0; j < m; ++j) to[j] = from[picked[j]];
    }
}

template void column_changes<float>(uint8_t*, float*, float*, const float*, const uint8_t*, const uint8_t*,
                                    const int64_t*, int64_t, int64_t, int64_t);
template void column_changes<double>(uint8_t*, double*, double*, const double*, const uint8_t*, const uint8_t*,
                                     const int64_t*, int64_t, int64_t, int64_t);
template void gather_columns<float>(float*, const float*, const int64_t*, int64_t, int64_t, int64_t);
template void gather_columns<double>(double*, const double*, const int64_t*, int64_t, int64_t, int64_t);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
