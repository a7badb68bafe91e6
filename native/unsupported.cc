// glyphlab's native kernels are written for x86-64 (AVX2 and FMA). Elsewhere the module only
// says so, and the wasm backend's own kernels run.
#include <node_api.h>

static napi_value Supported(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, false, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor property = {"supported", nullptr, Supported, nullptr, nullptr, nullptr, napi_default, nullptr};
  napi_define_properties(env, exports, 1, &property);
  return exports;
}
