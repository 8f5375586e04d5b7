// Chooses the kernel table at import: the best ISA level the CPU supports, or the one forced by
// NNFAST_ISA (which may only lower it).
#pragma once
#include <string>
#include <vector>

#include "dispatch/kernel_table.h"

namespace nnfast {

// Levels compiled into this build, lowest first.
const std::vector<std::string>& built_isas();
// Built levels this CPU can run, lowest first.
std::vector<std::string> supported_isas();
// Selects the active table. `forced` is NNFAST_ISA's value or empty. Throws std::invalid_argument
// naming the value and the levels available when it is unknown or unsupported here.
void select_isa(const std::string& forced);
// Makes the active level's GEMM use the register tile of `forced` rows (NNFAST_GEMM_MR's value), or
// this CPU's choice when it is empty (gemm/gemm_tiles.cpp). Throws std::invalid_argument naming the
// value and the level's tiles when it is not one of them. After select_isa.
void select_gemm_tile(const std::string& forced);
// Whether Dense products skip the zeros of a mostly-zero input, where the level has a kernel for
// that (gemm/sparse_a.h), and how its loop takes a term's entry: `value` is NNFAST_SPARSE_INPUTS's,
// "" or "1" on (this CPU's way), "0" off, "registers" or "loads" on, taking entries that way. The
// bits are the same in every case. Throws std::invalid_argument naming any other value.
void select_sparse_inputs(const std::string& value);
bool sparse_inputs_enabled();
// How the AVX-512 kernel takes its terms' entries: true, each field by a load of its own (the
// value broadcast from memory, the offset a scalar load: faster on Intel, whose shuffles share a
// port with its multiply-adds); false, two entries in one load, taken apart in registers (faster
// on AMD, where the loop is bound by loads). The CPU's way unless NNFAST_SPARSE_INPUTS says.
bool sparse_terms_by_loads();
const char* sparse_terms_name();  // "loads" or "registers"
// Counts the products that skipped zeros (for tests that they do).
void note_sparse_product();
long long sparse_products_run();
// Counts the groups of rows those products ran with full lists (gemm/sparse_a.cpp:
// full_group_block), for tests that they do.
void note_full_groups(long long groups);
long long full_groups_run();
// Counts the tiles of a product two threads shared that the second thread took (gemm/gemm.h:
// gemm_shared), for tests that it does.
void note_shared_tiles(long long tiles);
long long shared_tiles_taken();
// For tests: while held, the lead of a product two threads share waits for the other thread's
// first take before its own (gemm/gemm.h: TileShare), so a test sees the share run whichever
// thread the host lets finish first. The bits are the same either way.
void hold_shared_lead(bool held);
bool shared_lead_held();
// The active table (select_isa must have run).
const KernelTable& active_kernels();

}  // namespace nnfast
