// Workload specs the graph tests build steps from.
#pragma once

#include "workloads/graph.h"

namespace tasim::workloads::testing {

inline RunSpec decode(int batch, int context_len) {
  RunSpec s;
  s.phase = Phase::decode;
  s.batch = batch;
  s.context_len = context_len;
  return s;
}

inline RunSpec prefill(int batch, int prompt_len) {
  RunSpec s;
  s.phase = Phase::prefill;
  s.batch = batch;
  s.prompt_len = prompt_len;
  return s;
}

// One denoising step of `batch` videos of frames x height x width pixels (a DiT).
inline RunSpec denoise(int batch, int frames, int height, int width, bool cfg) {
  RunSpec s;
  s.phase = Phase::denoise;
  s.batch = batch;
  s.video_frames = frames;
  s.video_height = height;
  s.video_width = width;
  s.cfg = cfg;
  return s;
}

}  // namespace tasim::workloads::testing
