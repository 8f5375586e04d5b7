#include "model/dead_units.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace nnfast {

namespace {

// The forward computes only the live units, gathered into a smaller layer, once at most this share
// of the units is live: the product's time moves in steps of 16 units (docs/design.md), and the
// gather and scatter around it cost a few per cent of a full product.
constexpr int64_t kLiveShareNum = 3, kLiveShareDen = 4;

// A unit with no open window.
constexpr int64_t kClosed = -1;

// The longest wait, in steps, before a unit whose weights keep changing is compared again.
constexpr int64_t kLongestWait = 64;

}  // namespace

template <class T>
typename DeadUnits<T>::Bits DeadUnits<T>::bits_of(T v) {
    Bits b;
    std::memcpy(&b, &v, sizeof(Bits));
    return b;
}

template <class T>
void DeadUnits<T>::begin(const LayerBuffers<T>& first, const T* x, int64_t samples, bool continuing) {
    const bool tracked = first.kind == LayerKind::dense && first.act == Activation::relu && first.l2 == 0.0;
    if (continuing && tracked == tracked_ && &first == layer_ && x == x_ && samples == samples_) return;
    layer_ = &first;
    tracked_ = tracked;
    x_ = x;
    samples_ = samples;
    forget();
}

template <class T>
void DeadUnits<T>::forget() {
    step_ = 0;
    unseen_ = samples_;
    horizon_ = 0;
    count_at_.clear();
    if (!tracked_) return;
    const size_t in = size_t(layer_->in), out = size_t(layer_->out);
    w_seen_.assign(in * out, T(0));
    b_seen_.assign(out, T(0));
    since_.assign(out, kClosed);
    proven_.assign(out, 0);
    fired_.assign(out, 0);
    reopen_at_.assign(out, 0);
    backoff_.assign(out, 1);
    watch_.assign(out, 0);
    capture_.assign(out, 0);
    changed_.assign(out, 0);
    seen_at_.assign(size_t(samples_), -1);
}

template <class T>
int64_t DeadUnits<T>::proven() const {
    return tracked_ ? std::count(proven_.begin(), proven_.end(), uint8_t(1)) : 0;
}

// An open window whose unit's weights or bias changed bits closes (the unit is no longer proven),
// and may open again only after a wait that doubles with each such change: a unit whose weights
// still move would otherwise be compared at every step for nothing. A unit with no window that did
// not fire at the last step opens one, its weights copied.
template <class T>
bool DeadUnits<T>::check_weights(const KernelSet<T>& k, int64_t gather) {
    const auto& l = *layer_;
    bool unproven = false;
    for (int64_t u = 0; u < l.out; ++u) {
        watch_[u] = since_[u] != kClosed;
        capture_[u] = since_[u] == kClosed && !fired_[u] && step_ >= reopen_at_[u];
    }
    k.column_changes(changed_.data(), w_seen_.data(), w_live_.data(), l.w, watch_.data(), capture_.data(),
                     live_.data(), l.in, l.out, gather);
    for (int64_t u = 0; u < l.out; ++u) {
        if (l.b && watch_[u] && bits_of(l.b[u]) != bits_of(b_seen_[u])) changed_[u] = 1;
        if (changed_[u]) {
            since_[u] = kClosed;
            unproven |= proven_[u] != 0;
            proven_[u] = 0;
            reopen_at_[u] = step_ + backoff_[u];
            backoff_[u] = std::min(2 * backoff_[u], kLongestWait);
        } else if (capture_[u]) {
            if (l.b) b_seen_[u] = l.b[u];
            since_[u] = step_;
        }
    }
    return unproven;
}

// live_ = the units not proven, in order.
template <class T>
void DeadUnits<T>::find_live() {
    live_.clear();
    for (int64_t u = 0; u < layer_->out; ++u)
        if (!proven_[u]) live_.push_back(u);
}

// Whether the forward computes n live units as a smaller layer of their gathered columns.
template <class T>
bool DeadUnits<T>::compact(int64_t n) const {
    return n * kLiveShareDen <= layer_->out * kLiveShareNum;
}

template <class T>
void DeadUnits<T>::forward(const KernelSet<T>& k, const T* x, const int64_t* rows, int64_t batch) {
    const auto& l = *layer_;
    if (step_ == std::numeric_limits<int32_t>::max()) forget();  // seen_at_'s steps stay in range
    // The units as the proof stands before this step's check: the check's pass over the weights
    // gathers their columns for the smaller product, unless it finds a proven unit's weights changed
    // (then they are gathered again, with that unit).
    find_live();
    int64_t n = int64_t(live_.size());
    bool gathered = n > 0 && compact(n);
    if (gathered) w_live_.resize(size_t(l.in * n));
    if (check_weights(k, gathered ? n : 0)) {
        find_live();
        n = int64_t(live_.size());
        gathered = false;
    }
    if (!compact(n)) {
        k.dense_forward(l.y, x, l.w, l.b, batch, l.in, l.out, l.act);
        record_outputs(l.y, batch, l.out, nullptr);
    } else if (n > 0) {
        y_live_.resize(size_t(batch * n));
        if (!gathered) {
            w_live_.resize(size_t(l.in * n));
            k.gather_columns(w_live_.data(), l.w, live_.data(), l.in, l.out, n);
        }
        if (l.b) {
            b_live_.resize(size_t(n));
            for (int64_t j = 0; j < n; ++j) b_live_[j] = l.b[live_[j]];
        }
        k.dense_forward(y_live_.data(), x, w_live_.data(), l.b ? b_live_.data() : nullptr, batch, l.in, n, l.act);
        record_outputs(y_live_.data(), batch, n, live_.data());
        for (int64_t i = 0; i < batch; ++i) {
            T* y = l.y + i * l.out;
            std::fill(y, y + l.out, T(0));
            const T* from = y_live_.data() + i * n;
            for (int64_t j = 0; j < n; ++j) y[live_[j]] = from[j];
        }
    } else {  // every unit proven
        std::fill(l.y, l.y + batch * l.out, T(0));
    }
    cover(rows, batch);
    // A unit proven: every sample was seen since its window opened.
    if (unseen_ == 0)
        for (int64_t u = 0; u < l.out; ++u)
            if (!proven_[u] && since_[u] != kClosed && since_[u] <= horizon_) {
                proven_[u] = 1;
                backoff_[u] = 1;
            }
    ++step_;
}

// Which computed units fired this step, from their outputs y (batch, cols), column j being unit
// units[j] (or j when units is null): a unit that fired closes its window.
template <class T>
void DeadUnits<T>::record_outputs(const T* y, int64_t batch, int64_t cols, const int64_t* units) {
    std::vector<Bits>& any = fired_bits_;
    any.assign(size_t(cols), 0);
    for (int64_t i = 0; i < batch; ++i)
        for (int64_t j = 0; j < cols; ++j) any[j] |= bits_of(y[i * cols + j]);
    for (int64_t j = 0; j < cols; ++j) {
        const int64_t u = units ? units[j] : j;
        fired_[u] = any[j] != 0;
        if (fired_[u]) since_[u] = kClosed;
    }
}

// The samples rows (batch) seen at this step.
template <class T>
void DeadUnits<T>::cover(const int64_t* rows, int64_t batch) {
    if (count_at_.size() <= size_t(step_ - horizon_)) count_at_.resize(size_t(step_ - horizon_ + 1), 0);
    for (int64_t i = 0; i < batch; ++i) {
        int32_t& at = seen_at_[size_t(rows[i])];
        if (at < 0) --unseen_;
        else --count_at_[size_t(at - horizon_)];
        at = int32_t(step_);
        ++count_at_[size_t(step_ - horizon_)];
    }
    while (horizon_ < step_ && count_at_.front() == 0) {
        count_at_.pop_front();
        ++horizon_;
    }
    // A sample left out of the order for more than four times as many steps as the set has samples
    // (two epochs at any batch size take at most twice as many) holds the horizon back for good:
    // start over rather than let the counts grow.
    if (int64_t(count_at_.size()) > 4 * samples_ + kLongestWait) forget();
}

template class DeadUnits<float>;
template class DeadUnits<double>;

}  // namespace nnfast
