// Strongly connected components of a directed graph (Tarjan's algorithm, iterative:
// automata and rule graphs are deep enough to overflow a recursive one).
//
// Components are reported in reverse topological order: every component a
// component can reach has been reported before it. That is the order a
// "combine what is reachable" pass wants (see engine/class_runs.cc).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace stencil::support {

// `successors(v)` returns a range of int32_t vertex ids; `on_component(members)` receives each
// component's vertices (a std::vector<int32_t>&, valid during the call). Only the vertices
// reachable from `roots` are visited; pass every vertex to cover the whole graph.
template <class Successors, class OnComponent>
void strongly_connected_components(int32_t vertices, const std::vector<int32_t>& roots, Successors&& successors,
                                   OnComponent&& on_component) {
  std::vector<int32_t> index(static_cast<size_t>(vertices), -1), low(static_cast<size_t>(vertices), 0), stack, component;
  std::vector<uint8_t> on_stack(static_cast<size_t>(vertices), 0);
  int32_t counter = 0;
  struct Frame {
    int32_t v;
    size_t next;
  };
  std::vector<Frame> frames;
  for (int32_t root : roots) {
    if (index[static_cast<size_t>(root)] >= 0) continue;
    frames.push_back({root, 0});
    index[static_cast<size_t>(root)] = low[static_cast<size_t>(root)] = counter++;
    stack.push_back(root);
    on_stack[static_cast<size_t>(root)] = 1;
    while (!frames.empty()) {
      Frame& f = frames.back();
      const auto& succ = successors(f.v);
      if (f.next < static_cast<size_t>(std::end(succ) - std::begin(succ))) {
        const int32_t w = *(std::begin(succ) + static_cast<std::ptrdiff_t>(f.next++));
        if (index[static_cast<size_t>(w)] < 0) {
          index[static_cast<size_t>(w)] = low[static_cast<size_t>(w)] = counter++;
          stack.push_back(w);
          on_stack[static_cast<size_t>(w)] = 1;
          frames.push_back({w, 0});
        } else if (on_stack[static_cast<size_t>(w)]) {
          low[static_cast<size_t>(f.v)] = std::min(low[static_cast<size_t>(f.v)], index[static_cast<size_t>(w)]);
        }
        continue;
      }
      const int32_t v = f.v;
      frames.pop_back();
      if (!frames.empty()) {
        const size_t up = static_cast<size_t>(frames.back().v);
        low[up] = std::min(low[up], low[static_cast<size_t>(v)]);
      }
      if (low[static_cast<size_t>(v)] != index[static_cast<size_t>(v)]) continue;
      component.clear();
      int32_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[static_cast<size_t>(w)] = 0;
        component.push_back(w);
      } while (w != v);
      on_component(component);
    }
  }
}

}  // namespace stencil::support
