// A learning-rate schedule evaluated in C++, so multi-step native runs need no Python call per step.
#pragma once
#include <cstdint>

#include "common/types.h"

namespace nnfast {

// The learning rate of the step taken after `iterations` steps (0-based, as Keras calls a schedule
// with optimizer.iterations): the same double operations, in the same order, as the schedule's
// Python __call__ in nnfast.optimizers.schedules, so both give the same bits. NaN where the Python
// schedule is NaN (CosineDecayRestarts past the end of shrinking periods).
double learning_rate_at(const LearningRateSchedule& s, int64_t iterations);

}  // namespace nnfast
