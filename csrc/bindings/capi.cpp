// The C API's Python face: the capsule nnfast._core._C_API (nnfast/include/nnfast/nnfast.h) and the
// probe of its per-call cost that `python -m nnfast bench --sections capi` reports.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings/register.h"
#include "capi/capi.h"

namespace nnfast {
namespace bindings {

namespace py = pybind11;

void register_capi(py::module_& m) {
    // The table is static and immutable: the capsule borrows it and needs no destructor.
    m.attr("_C_API") = py::capsule(static_cast<const void*>(capi::table()), NNFAST_CAPI_CAPSULE);
    m.attr("C_API_VERSION") = NNFAST_CAPI_VERSION;
    m.def("capi_call_cost", [](const std::string& which, int64_t iters, int rounds) {
        if (iters < 1 || rounds < 1)
            throw py::value_error("iters and rounds must be >= 1, got " + std::to_string(iters) + " and " +
                                  std::to_string(rounds));
        std::vector<double> direct, moded, through;
        bool known;
        {
            py::gil_scoped_release nogil;
            known = capi::probe_call_cost(which.c_str(), iters, rounds, &direct, &moded, &through);
        }
        if (!known) throw py::value_error("which must be 'dense_forward' or 'adam', got '" + which + "'");
        return py::make_tuple(direct, moded, through);
    }, py::arg("which"), py::arg("iters") = 20000, py::arg("rounds") = 7,
          "capi_call_cost(which, iters, rounds) -> (direct, moded, capi): lists of ns per call, one per round, of "
          "the float32 kernel 'dense_forward' (32 x 128 x 10) or 'adam' (1000 parameters) from C++ through the "
          "kernel table, the same with the floating-point mode set and restored per call, and through the C API "
          "table (the three alternated within each round, their order rotated from round to round).");
}

}  // namespace bindings
}  // namespace nnfast
