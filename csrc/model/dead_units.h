// Units of a training set's first Dense layer (relu) proven dead, so that the one-call step's
// forward computes only the others. A unit is proven dead when, over a run of steps in which its
// weights and bias kept the same bits, its output was +0 for every sample of the set: then it is
// +0 for every sample in any later step whose weights still have those bits, since the forward
// computes each output from the input row, the unit's weights and bias alone, in a fixed order.
// What the step computes is bit for bit what it computed before; only the time changes.
// The proof takes the data set as unchanged between the steps it spans (the caller says so: one
// fit call, which takes its data as they are when it starts). No Python types here.
#pragma once
#include <cstdint>
#include <deque>
#include <type_traits>
#include <vector>

#include "dispatch/kernel_table.h"
#include "model/dense_stack.h"

namespace nnfast {

template <class T>
class DeadUnits {
  public:
    // Starts a run of steps of `first`, the chain's first layer, over the data set x (samples,
    // first.in). What was proven carries over only when `continuing` (the caller's word that x and
    // its values are those of the last run) and x is the same; else the proof starts afresh.
    // A layer other than a relu Dense without an L2 penalty (whose weights change every step) is
    // not tracked.
    void begin(const LayerBuffers<T>& first, const T* x, int64_t samples, bool continuing);

    // Whether begin's layer is tracked (else forward must not be called).
    bool tracks() const { return tracked_; }

    // The layer's forward of the batch x (batch, in) into first.y, whose samples are rows (batch)
    // of the data set, at the step's weights: the units proven dead (with the weights' bits
    // unchanged) are set to +0, the others computed. Records what the step shows.
    void forward(const KernelSet<T>& k, const T* x, const int64_t* rows, int64_t batch);

    // Units proven dead so far (for tests and the bench).
    int64_t proven() const;

  private:
    using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;  // a value's bits (0 only for +0)
    static Bits bits_of(T v);

    void forget();
    // Closes the windows of units whose weights or bias changed and opens new ones; gathers the
    // first `gather` units of live_ into w_live_ in the same pass. Returns whether a proven unit
    // was among those that changed.
    bool check_weights(const KernelSet<T>& k, int64_t gather);
    void find_live();
    bool compact(int64_t n) const;
    void record_outputs(const T* y, int64_t batch, int64_t cols, const int64_t* units);
    void cover(const int64_t* rows, int64_t batch);

    const LayerBuffers<T>* layer_ = nullptr;
    bool tracked_ = false;
    const T* x_ = nullptr;
    int64_t samples_ = 0;
    int64_t step_ = 0;                // steps observed since the proof started
    std::vector<T> w_seen_, b_seen_;  // the weights' and bias's bits each open window holds for
    // Per unit: the step its window opened (kClosed: none open), whether it is proven, whether it
    // fired (an output other than +0) at the last step, and when and after how long a wait a window
    // closed by a change of weights may open again.
    std::vector<int64_t> since_;
    std::vector<uint8_t> proven_, fired_;
    std::vector<int64_t> reopen_at_, backoff_;
    std::vector<uint8_t> watch_, capture_, changed_;  // per step: what column_changes compares and copies
    std::vector<int64_t> live_;                       // the units computed this step
    std::vector<T> w_live_, b_live_, y_live_;
    std::vector<Bits> fired_bits_;  // per computed unit: the OR of its outputs' bits this step
    // The samples' coverage: each one's last step, how many last seen at each step from horizon_
    // on, and those never seen. Every sample was seen at horizon_ or later once unseen_ is 0.
    std::vector<int32_t> seen_at_;  // 4 bytes a sample (the proof starts over before 2^31 steps)
    std::deque<int64_t> count_at_;
    int64_t unseen_ = 0;
    int64_t horizon_ = 0;
};

}  // namespace nnfast
