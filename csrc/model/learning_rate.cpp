// Compiled with -ffp-contract=off: each formula must round as Python's float arithmetic does.
#include "model/learning_rate.h"

#include <cmath>
#include <limits>

namespace nnfast {
namespace {

constexpr double kPi = 3.141592653589793;  // math.pi

double python_min(double a, double b) { return b < a ? b : a; }  // min(a, b)

// schedules._cosine: the cosine multiplier decaying from 1 to alpha as fraction goes from 0 to 1.
double cosine(double fraction, double alpha) {
    return (1.0 - alpha) * (0.5 * (1.0 + std::cos(kPi * fraction))) + alpha;
}

// StepDecay.progress: step / decay_steps, floored with staircase.
double progress(const double* p, double step) {
    const double q = step / p[1];
    return p[3] != 0 ? std::floor(q) : q;
}

double polynomial(const double* p, double step) {
    double decay_steps = p[1];
    if (p[4] != 0)
        decay_steps *= step == 0 ? 1.0 : std::ceil(step / decay_steps);
    else
        step = python_min(step, decay_steps);
    const double q = step / decay_steps;
    const double end = p[2];
    return (p[0] - end) * std::pow(1.0 - q, p[3]) + end;
}

double cosine_decay(const double* p, double step) {
    const double initial = p[0], decay_steps = p[1], alpha = p[2];
    if (p[3] == 0) return initial * cosine(python_min(step, decay_steps) / decay_steps, alpha);
    const double target = p[4], warmup_steps = p[5];
    step = python_min(step, decay_steps + warmup_steps);
    if (step < warmup_steps) return (target - initial) * (step / warmup_steps) + initial;
    return target * cosine((step - warmup_steps) / decay_steps, alpha);
}

double cosine_restarts(const double* p, double step) {
    double fraction = step / p[1];
    const double t_mul = p[2], m_mul = p[3], alpha = p[4];
    double restart;
    if (t_mul == 1.0) {
        restart = std::floor(fraction);
        fraction -= restart;
    } else {
        const double x = 1.0 - fraction * (1.0 - t_mul);
        if (x <= 0) return std::numeric_limits<double>::quiet_NaN();
        restart = std::floor(std::log(x) / std::log(t_mul));
        // the restart index, exact at the period boundaries (as the Python schedule corrects it)
        while (restart > 0 && (1.0 - std::pow(t_mul, restart)) / (1.0 - t_mul) > fraction) restart -= 1;
        while ((1.0 - std::pow(t_mul, restart + 1)) / (1.0 - t_mul) <= fraction) restart += 1;
        fraction = (fraction - (1.0 - std::pow(t_mul, restart)) / (1.0 - t_mul)) / std::pow(t_mul, restart);
    }
    const double decayed = std::pow(m_mul, restart) * 0.5 * (1.0 + std::cos(kPi * fraction));
    return p[0] * ((1.0 - alpha) * decayed + alpha);
}

}  // namespace

double learning_rate_at(const LearningRateSchedule& s, int64_t iterations) {
    const double* p = s.params;
    const double step = double(iterations);
    switch (s.kind) {
    case ScheduleKind::constant: return p[0];
    case ScheduleKind::exponential_decay: return p[0] * std::pow(p[2], progress(p, step));
    case ScheduleKind::inverse_time_decay: return p[0] / (1.0 + p[2] * progress(p, step));
    case ScheduleKind::piecewise_constant:
        for (int64_t i = 0; i < s.pieces; ++i)
            if (step <= s.boundaries[i]) return s.values[i];
        return s.values[s.pieces];
    case ScheduleKind::polynomial_decay: return polynomial(p, step);
    case ScheduleKind::cosine_decay: return cosine_decay(p, step);
    case ScheduleKind::cosine_decay_restarts: return cosine_restarts(p, step);
    }
    return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace nnfast
