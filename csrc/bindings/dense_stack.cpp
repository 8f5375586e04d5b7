// DenseStack: the one-call training step of a stack of Dense layers (nnfast.models uses it for
// models it covers). Every buffer is checked once when the step is made; each call checks only its
// inputs, then runs forward, loss, backward and the optimizer update without the GIL.
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bindings/checks.h"
#include "bindings/optim_step.h"
#include "bindings/register.h"
#include "dispatch/dispatch.h"
#include "model/dense_stack.h"

namespace nnfast {
namespace bindings {
namespace {

template <class T> T* ptr(const py::array& a) { return static_cast<T*>(const_cast<void*>(a.data())); }

template <class T>
bool all_finite(const T* v, int64_t n) {
    bool ok = true;
    for (int64_t i = 0; i < n; ++i) ok &= std::isfinite(v[i]);
    return ok;
}

// A checked float array of dtype T, C-contiguous, aligned, of the given shape.
template <class T>
py::array buffer(py::handle obj, const char* name, std::vector<py::ssize_t> shape, bool writable) {
    py::array a = float_array(obj, name);
    if ((a.itemsize() == 4) != std::is_same<T, float>::value)
        throw py::type_error(std::string(name) + " must have the model's dtype");
    bool same = a.ndim() == py::ssize_t(shape.size());
    for (size_t i = 0; same && i < shape.size(); ++i) same = a.shape(i) == shape[i];
    if (!same) throw py::value_error(std::string(name) + " has shape " + shape_str(a) + ", not the expected one");
    require_c_contiguous(a, name);
    if (writable) require_writable(a, name);
    return a;
}

class Step {
  public:
    virtual ~Step() = default;
    virtual double run(py::handle x, py::handle targets, py::handle learning_rate, py::handle step,
                       bool check_finite) = 0;
};

template <class T>
class TypedStep : public Step {
  public:
    TypedStep(const py::list& layers, py::handle dloss, const std::string& loss, const std::string& fn,
              const py::dict& kwargs, py::handle params, py::handle grads, const py::tuple& states) {
        s_.step_template = optim_step_from_kwargs(fn, kwargs, &s_.plan.optimizer);
        auto& p = s_.plan;
        if (layers.size() == 0) throw py::value_error("layers must not be empty");
        p.batch = -1;
        int64_t in = -1;
        for (size_t i = 0; i < layers.size(); ++i) {
            py::tuple t = layers[i].cast<py::tuple>();  // (w, b, y, dx, dw, db, activation)
            py::array w = float_array(t[0], "w");
            if (w.ndim() != 2) throw py::value_error("w must be 2-D");
            const int64_t li = w.shape(0), lo = w.shape(1);
            if (in >= 0 && li != in) throw py::value_error("layer sizes do not chain");
            in = lo;
            py::array y = float_array(t[2], "y");
            if (p.batch < 0) p.batch = y.ndim() == 2 ? y.shape(0) : -1;
            DenseLayerBuffers<T> l{};
            l.in = li, l.out = lo;
            l.w = ptr<T>(keep(buffer<T>(w, "w", {li, lo}, false)));
            l.b = t[1].is_none() ? nullptr : ptr<T>(keep(buffer<T>(t[1], "b", {lo}, false)));
            l.y = ptr<T>(keep(buffer<T>(y, "y", {p.batch, lo}, true)));
            l.dx = t[3].is_none() ? nullptr : ptr<T>(keep(buffer<T>(t[3], "dx", {p.batch, li}, true)));
            if (i > 0 && !l.dx) throw py::value_error("every layer but the first needs a dx buffer");
            l.dw = ptr<T>(keep(buffer<T>(t[4], "dw", {li, lo}, true)));
            l.db = t[5].is_none() ? nullptr : ptr<T>(keep(buffer<T>(t[5], "db", {lo}, true)));
            if (!l.b != !l.db) throw py::value_error("b and db must be given together");
            l.act = parse_activation(t[6]);
            if (l.act == Activation::softmax) throw py::value_error("a softmax layer is fused with its loss or left to the general loop");
            p.layers.push_back(l);
        }
        input_dim_ = p.layers.front().in;
        outputs_ = p.layers.back().out;
        p.dloss = ptr<T>(keep(buffer<T>(dloss, "dloss", {p.batch, outputs_}, true)));
        if (loss == "mse") p.loss = StepLoss::mse;
        else if (loss == "mae") p.loss = StepLoss::mae;
        else if (loss == "binary_cross_entropy") p.loss = StepLoss::binary_cross_entropy;
        else if (loss == "softmax_cross_entropy") p.loss = StepLoss::softmax_cross_entropy;
        else throw py::value_error("loss must be mse, mae, binary_cross_entropy or softmax_cross_entropy, got " + loss);
        p.tensors = checked_tensors<T>(params, grads, states, &keep_);
    }

    double run(py::handle x_obj, py::handle targets, py::handle learning_rate, py::handle step,
               bool check_finite) override {
        const auto& p = s_.plan;
        py::array x = buffer<T>(x_obj, "x", {p.batch, input_dim_}, false);
        const int64_t* labels = nullptr;
        const T* rows = nullptr;
        py::array t = py::reinterpret_borrow<py::object>(targets).cast<py::array>();
        if (p.loss == StepLoss::softmax_cross_entropy && t.dtype().kind() == 'i') {
            if (t.itemsize() != 8 || t.ndim() != 1 || t.shape(0) != p.batch)
                throw py::value_error("labels must be int64 class indices of shape (batch,)");
            require_c_contiguous(t, "labels");
            labels = static_cast<const int64_t*>(t.data());
            for (int64_t i = 0; i < p.batch; ++i)
                if (labels[i] < 0 || labels[i] >= outputs_)
                    throw py::value_error("labels must be class indices in [0, " + std::to_string(outputs_) + ")");
        } else {
            rows = ptr<T>(buffer<T>(t, "targets", {p.batch, outputs_}, false));
        }
        if (check_finite) {  // a caller that has not checked its data (train_on_batch)
            if (!all_finite(ptr<T>(x), p.batch * input_dim_)) throw py::value_error("x contains NaN or Inf");
            if (rows && !all_finite(rows, p.batch * outputs_)) throw py::value_error("y contains NaN or Inf");
        }
        OptimStep s = s_.step_template;
        s.learning_rate = learning_rate_value(learning_rate);
        s.step = step_value(step);
        const KernelTable& kt = active_kernels();
        const T* xp = ptr<T>(x);
        py::gil_scoped_release nogil;
        return run_dense_stack_step<T>(kt, p, xp, labels, rows, s);
    }

  private:
    const py::array& keep(const py::array& a) {
        keep_.push_back(a);
        return a;
    }
    struct {
        DenseStackStep<T> plan;
        OptimStep step_template;
    } s_;
    std::vector<py::object> keep_;  // every array the plan points into stays alive with it
    int64_t input_dim_ = 0, outputs_ = 0;
};

std::unique_ptr<Step> make_step(const py::list& layers, py::handle dloss, const std::string& loss, const std::string& fn,
                                const py::dict& kwargs, py::handle params, py::handle grads, const py::tuple& states) {
    const DType d = dtype_of(float_array(dloss, "dloss"));
    if (d == DType::f32) return std::make_unique<TypedStep<float>>(layers, dloss, loss, fn, kwargs, params, grads, states);
    return std::make_unique<TypedStep<double>>(layers, dloss, loss, fn, kwargs, params, grads, states);
}

}  // namespace

void register_dense_stack(py::module_& m) {
    py::class_<Step>(m, "DenseStackStep", "One native call per training step of a stack of Dense layers.")
        .def(py::init(&make_step))
        .def("run", &Step::run, py::arg("x"), py::arg("targets"), py::arg("learning_rate"), py::arg("step"),
             py::arg("check_finite") = false, "run(x, targets, learning_rate, step, check_finite=False) -> loss");
}

}  // namespace bindings
}  // namespace nnfast
