// Column bookkeeping of a weight matrix, for the one-call step's proof of dead units
// (model/dead_units.h): which columns changed since a snapshot, and a copy of some columns.
#pragma once
#include <cstdint>

namespace nnfast {
namespace NNFAST_ISA_NS {

// changed (cols) = 1 where watch[j] and column j of w (rows, cols) differs bit for bit from column j
// of snapshot (rows, cols), else 0; then column j of snapshot = that of w, bit for bit, where
// capture[j]; and gathered (rows, m) = the columns picked (m) of w, in the order picked names them
// (as gather_columns, in the same pass over w's rows). Reads w only when a column is watched,
// captured or picked, and writes snapshot only when one is captured.
template <class T>
void column_changes(uint8_t* changed, T* snapshot, T* gathered, const T* w, const uint8_t* watch,
                    const uint8_t* capture, const int64_t* picked, int64_t rows, int64_t cols, int64_t m);

// out (rows, m) = the columns picked (m) of w (rows, n), in the order picked names them.
template <class T>
void gather_columns(T* out, const T* w, const int64_t* picked, int64_t rows, int64_t n, int64_t m);

}  // namespace NNFAST_ISA_NS
}  // namespace nnfast
