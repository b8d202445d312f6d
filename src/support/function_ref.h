// FunctionRef<R(Args...)>: a non-owning reference to a callable, two words wide.
// Used where a callback is invoked only during the call it is passed to (ThreadPool's
// parallel_for): no allocation and no copy of the callable, unlike std::function.
// It does not extend the callable's lifetime: never store one beyond the call.
#pragma once

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace stencil::support {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  // Implicit, like std::function, so that a lambda can be passed where a FunctionRef is expected.
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::remove_cvref_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, Args...>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor)
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, Args... args) -> R {
          return std::invoke(*static_cast<std::remove_reference_t<F>*>(object), std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

}  // namespace stencil::support
