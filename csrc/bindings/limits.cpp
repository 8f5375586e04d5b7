// stream_inplace / fma_loop / team_handoff_seconds: probes of the machine's limits for the benchmark report.
#include <vector>

#include <pybind11/stl.h>

#include "bindings/checks.h"
#include "bindings/kernel_call.h"
#include "bindings/register.h"
#include "dispatch/dispatch.h"
#include "parallel/team.h"
#include "parallel/threads.h"

namespace nnfast {
namespace bindings {
namespace {

// Every array: float32, C-contiguous, of one size; `rw` arrays writable and distinct.
std::vector<const py::array*> checked(const std::vector<py::array>& arrays, const char* name, int64_t size,
                                      bool writable) {
    std::vector<const py::array*> out;
    for (const py::array& a : arrays) {
        if (a.dtype().kind() != 'f' || a.itemsize() != 4)
            throw py::type_error(std::string(name) + " must hold float32 arrays");
        require_c_contiguous(a, name);
        if (writable) require_writable(a, name);
        if (a.size() != size) throw py::value_error(std::string(name) + " arrays must all have one size");
        out.push_back(&a);
    }
    return out;
}

void stream_inplace(const std::vector<py::array>& rw, const py::array& ro, float c) {
    if (rw.empty() || rw.size() > 4) throw py::value_error("rw must hold 1 to 4 arrays");
    const int64_t n = rw[0].size();
    checked(rw, "rw", n, true);
    checked({ro}, "ro", n, false);
    for (size_t i = 0; i < rw.size(); ++i)
        for (size_t j = 0; j < rw.size(); ++j)
            if (i != j && rw[i].data() == rw[j].data()) throw py::value_error("rw arrays must be distinct");
    std::vector<float*> w;
    for (const auto& a : rw) w.push_back(ptr<float>(a));
    const float* r = ptr<const float>(ro);
    const auto kernel = active_kernels().stream_inplace;
    GilRelease nogil(n * int64_t(w.size()));
    kernel(w.data(), int64_t(w.size()), r, n, c);
}

float fma_loop(int64_t iters, int threads) {
    if (iters < 0) throw py::value_error("iters must be >= 0");
    if (threads < 1) throw py::value_error("threads must be >= 1");
    const auto kernel = active_kernels().fma_loop;
    GilRelease nogil(iters * threads);
    return kernel(iters, threads);
}

double team_handoff_seconds(int64_t jobs, int repeats) {
    if (jobs < 1) throw py::value_error("jobs must be >= 1");
    if (repeats < 1) throw py::value_error("repeats must be >= 1");
    GilRelease nogil(GilRelease::kTinyWork);  // a probe of microseconds per job: other threads may run
    return nnfast::team_handoff_seconds(jobs, repeats);
}

}  // namespace

void register_limits(py::module_& m) {
    m.def("stream_inplace", &stream_inplace, py::arg("rw"), py::arg("ro"), py::arg("c") = 0.0f,
          "rw[k] += c * ro for 1 to 4 arrays rw, in one pass (an in-place memory stream; benchmark probe).");
    m.def("fma_loop", &fma_loop, py::arg("iters"), py::arg("threads"),
          "iters rounds of 128 float multiply-adds per thread (FMA peak probe; FLOPs = 256*iters*threads).");
    m.def("team_handoff_seconds", &team_handoff_seconds, py::arg("jobs") = 2000, py::arg("repeats") = 3,
          "Seconds per empty job of a 2-thread team (a native step's hand-off of a parallel part to "
          "another core and back), the best of `repeats` runs of `jobs`; 0 without a second thread.");
}

}  // namespace bindings
}  // namespace nnfast
