// nnfast._core: selects the kernel table at import, then registers every binding.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "bindings/register.h"
#include "build_info.h"
#include "dispatch/dispatch.h"
#include "memory/caches.h"
#include "parallel/float_env.h"
#include "parallel/team.h"
#include "parallel/threads.h"

namespace py = pybind11;
using namespace nnfast;

namespace {

py::dict blocking_dict(const GemmBlocking& b) {
    return py::dict(py::arg("mr") = b.mr, py::arg("nr") = b.nr, py::arg("kc") = b.kc, py::arg("mc") = b.mc,
                    py::arg("nc") = b.nc);
}

// The overrides read from the environment at import: what is in force, whatever the environment
// says later.
struct ImportEnv {
    std::string blocking, gemm_mr, sparse_inputs;  // NNFAST_BLOCKING, NNFAST_GEMM_MR, NNFAST_SPARSE_INPUTS ("" when unset)
};
ImportEnv g_import_env;

py::object override_or_none(const std::string& value) {
    return value.empty() ? py::object(py::none()) : py::object(py::str(value));
}

py::dict build_info() {
    py::dict d;
    d["version"] = NNFAST_VERSION;
    d["compiler"] = NNFAST_COMPILER;
    d["build_type"] = NNFAST_BUILD_TYPE;
    d["isa_flags"] = NNFAST_ISA_FLAGS;
    d["processor"] = NNFAST_SYSTEM_PROCESSOR;
    d["isa_built"] = built_isas();
    d["isa_supported"] = supported_isas();
    d["isa"] = active_kernels().isa;
    d["isa_features"] = active_kernels().compiled_features;
    d["openmp"] = openmp_enabled();
    d["max_threads"] = max_threads();
    d["min_work_per_thread"] = kMinWorkPerThread;
    d["flush_denormal_supported"] = kFlushDenormalSupported;
    const CacheSizes& c = cache_sizes();
    d["caches"] = py::dict(py::arg("l1d") = c.l1d.bytes, py::arg("l1d_ways") = c.l1d.ways,
                           py::arg("l2") = c.l2.bytes, py::arg("l3") = c.l3.bytes,
                           py::arg("l3_per_core") = c.l3_per_core, py::arg("source") = c.source);
    d["blocking_override"] = override_or_none(g_import_env.blocking);
    const GemmTiles tiles = active_kernels().gemm_tiles();
    d["gemm_tiles"] = std::vector<int>(tiles.rows, tiles.rows + tiles.count);
    d["gemm_tile_override"] = override_or_none(g_import_env.gemm_mr);
    d["sparse_inputs"] = sparse_inputs_enabled();
    d["sparse_inputs_override"] = override_or_none(g_import_env.sparse_inputs);
    d["sparse_terms"] = sparse_terms_name();
    d["gemm_blocking"] = py::dict(py::arg("float32") = blocking_dict(active_kernels().f32.gemm_blocking()),
                                  py::arg("float64") = blocking_dict(active_kernels().f64.gemm_blocking()));
    return d;
}

void set_threads(py::handle n) {
    if (!py::isinstance<py::int_>(n) || py::isinstance<py::bool_>(n))
        throw py::type_error("n must be an int, got " +
                             std::string(py::str(py::type::of(n).attr("__name__"))));
    const long long v = n.cast<long long>();
    if (v < 1 || v > 4096)
        throw py::value_error("n must be between 1 and 4096, got " + std::to_string(v));
    set_num_threads(static_cast<int>(v));
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    const char* forced = std::getenv("NNFAST_ISA");
    const char* blocking = std::getenv("NNFAST_BLOCKING");
    const char* tile = std::getenv("NNFAST_GEMM_MR");
    const char* sparse = std::getenv("NNFAST_SPARSE_INPUTS");
    g_import_env = ImportEnv{blocking ? blocking : "", tile ? tile : "", sparse ? sparse : ""};
    try {
        select_isa(forced ? forced : "");
        select_gemm_tile(g_import_env.gemm_mr);
        select_sparse_inputs(g_import_env.sparse_inputs);
        if (!g_import_env.blocking.empty()) set_blocking_override(parse_blocking(g_import_env.blocking));
    } catch (const std::invalid_argument& e) {
        throw py::import_error(e.what());
    }
    m.doc() = "nnfast native kernels (use nnfast.ops)";
    m.attr("__version__") = NNFAST_VERSION;
    m.def("build_info", &build_info, "Facts about this build and the chosen ISA level.");
    m.def("set_num_threads", &set_threads, py::arg("n"));
    m.def("get_num_threads", &num_threads);
    m.def("idle_units_run", &idle_units_run,
          "Calls of an idle task a team's threads made while waiting for the next part "
          "(parallel/team.h): in training, each gathers up to 8 rows of the next batch during a "
          "step's serial parts, or finds none left.");
    m.def("teams_led", &teams_led, "Teams of threads led so far: by native training steps and the hand-off probe (parallel/team.h).");
    m.def("sparse_products_run", &sparse_products_run,
          "Dense products so far that skipped the zeros of a mostly-zero input (gemm/sparse_a.h).");
    m.def("full_groups_run", &full_groups_run,
          "Groups of rows those products ran with all their terms, zeros included, B's rows loaded "
          "once for the group (gemm/sparse_a.cpp: full_group_block), counted once a product.");
    m.def("shared_tiles_taken", &shared_tiles_taken,
          "Tiles so far of a product shared by two threads that the second took (gemm/gemm.h: "
          "gemm_shared; a Dense layer's dx beside its dw).");
    m.def("hold_shared_lead", &hold_shared_lead, py::arg("held"),
          "For tests: while held, a shared product's lead waits for the other thread's first tiles "
          "before its own, so the share runs whichever thread ends first (the bits are the same).");
    m.def("set_flush_denormal", [](bool on) { set_flush_denormal(on); }, py::arg("on"),
          "Flush subnormals to zero inside the kernels (ignored where unsupported; nnfast.set_flush_denormal).");
    m.def("get_flush_denormal", &flush_denormal);
    m.def("fp_mode", &read_fp_mode, "The calling thread's MXCSR (x86) or FPCR (AArch64); 0 elsewhere.");
    bindings::register_activations(m);
    bindings::register_optimizers(m);
    bindings::register_limits(m);
    bindings::register_dense(m);
    bindings::register_losses(m);
    bindings::register_dropout(m);
    bindings::register_embedding(m);
    bindings::register_normalization(m);
    bindings::register_dense_stack(m);
    bindings::register_capi(m);
}
