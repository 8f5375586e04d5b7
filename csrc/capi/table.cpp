// The table the capsule nnfast._core._C_API carries: filled once, then only read.
#include "capi/capi.h"

namespace nnfast {
namespace capi {

const nnfast_capi* table() {
    static const nnfast_capi t = [] {
        nnfast_capi x{};
        x.version = NNFAST_CAPI_VERSION;
        x.size = sizeof(nnfast_capi);
        fill_layer_entries(&x);
        fill_optimizer_entries(&x);
        return x;
    }();
    return &t;
}

}  // namespace capi
}  // namespace nnfast
