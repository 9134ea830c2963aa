// What the fuzz targets of tests/fuzz/ share (record_reader_fuzz.cc predates it and keeps its own):
// Fail(), which aborts naming the promise that broke, and, in the replay build
// (DUOSYNC_FUZZ_REPLAY_MAIN), ReplayMain(): the main() of `<name>_corpus`, a unit test that runs
// a seed corpus plus deterministic mutations of each seed through LLVMFuzzerTestOneInput, so the
// normal build checks every promise the libFuzzer build checks. A failing input is saved as
// /tmp/<name>-failure-<pid>.bin; `<name>_corpus FILE` runs one input (and its mutations) again.
#ifndef DUOSYNC_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define DUOSYNC_TESTS_FUZZ_FUZZ_SUPPORT_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace duosync_fuzz {

// The target's name for messages ("ddl_fuzz"); each target sets it once (see NameTarget).
inline const char*& TargetName() {
  static const char* name = "fuzz";
  return name;
}
inline bool NameTarget(const char* name) {
  TargetName() = name;
  return true;
}

// The input being run, for the replay build's report of a failure (null in the libFuzzer build,
// which saves the input itself).
inline const std::string*& CurrentInput() {
  static const std::string* input = nullptr;
  return input;
}
inline std::string& CurrentLabel() {
  static std::string label;
  return label;
}

[[noreturn]] inline void Fail(const std::string& what) {
  fprintf(stderr, "%s: BROKEN PROMISE: %s\n", TargetName(), what.c_str());
  if (const std::string* input = CurrentInput()) {
    const std::string path = "/tmp/" + std::string(TargetName()) + "-failure-" + std::to_string(getpid()) + ".bin";
    if (FILE* f = fopen(path.c_str(), "wb")) {
      fwrite(input->data(), 1, input->size(), f);
      fclose(f);
    }
    fprintf(stderr, "%s: input %s saved as %s\n", TargetName(), CurrentLabel().c_str(), path.c_str());
  }
  fflush(stderr);
  abort();
}

inline std::string Bytes(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

#ifdef DUOSYNC_FUZZ_REPLAY_MAIN

// Runs one input; `what` names it in a failure report.
using RunFn = std::function<void(const std::string& input, const std::string& what)>;

struct Replay {
  // Mutations of a seed that only the target knows (another mode byte, a structure's fields),
  // run after the generic ones. May be empty.
  std::function<void(const std::string& seed, const RunFn& run)> mutate;
  // `--write-seeds DIR [ARGS...]` writes the seed corpus. May be empty.
  std::function<int(const std::string& dir, const std::vector<std::string>& args)> write_seeds;
  // One line on what the inputs came to, for the summary. May be empty.
  std::function<std::string()> summary;
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteWholeFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) Fail("cannot write " + path);
}

inline std::vector<std::string> ListInputs(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) Fail("no such corpus: " + path);
  if (!S_ISDIR(st.st_mode)) return {path};
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  while (dirent* e = ::readdir(d)) {
    const std::string p = path + "/" + e->d_name;
    if (e->d_name[0] != '.' && ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) out.push_back(p);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The seed, then the same generic, bounded mutations for every target: cut short, bytes flipped
// or set, one byte dropped or inserted, doubled.
inline void GenericMutations(const std::string& seed, const RunFn& run) {
  run(seed, "as is");
  const size_t size = seed.size();
  if (size == 0) return;
  const size_t coarse = std::max<size_t>(1, size / 32);
  const size_t fine = std::max<size_t>(1, size / 128);
  for (size_t at = 0; at < size; at += coarse) run(seed.substr(0, at), "cut at " + std::to_string(at));
  for (size_t k = 1; k <= 8 && k < size; ++k) run(seed.substr(0, size - k), "cut " + std::to_string(k) + " before the end");
  for (size_t at = 0; at < size; at += fine) {
    const unsigned char b = static_cast<unsigned char>(seed[at]);
    for (unsigned char v : {static_cast<unsigned char>(b ^ 0x01), static_cast<unsigned char>(b ^ 0x80),
                            static_cast<unsigned char>(0x00), static_cast<unsigned char>(0xff)}) {
      if (v == b) continue;
      std::string s = seed;
      s[at] = static_cast<char>(v);
      run(s, "byte " + std::to_string(at) + " = " + std::to_string(v));
    }
  }
  for (size_t at = 0; at < size; at += coarse) {
    std::string dropped = seed;
    dropped.erase(at, 1);
    run(dropped, "byte " + std::to_string(at) + " dropped");
    for (char c : {'\0', '\xff'}) {
      std::string grown = seed;
      grown.insert(at, 1, c);
      run(grown, "a byte inserted at " + std::to_string(at));
    }
  }
  run(seed + seed, "doubled");
}

// main() of the replay build: `NAME_corpus [CORPUS_DIR_OR_FILE...]` (default: `default_corpus`),
// or `NAME_corpus --write-seeds DIR [ARGS...]`.
inline int ReplayMain(int argc, char** argv, const char* default_corpus, const Replay& replay) {
  if (argc >= 3 && strcmp(argv[1], "--write-seeds") == 0) {
    if (!replay.write_seeds) {
      fprintf(stderr, "%s: no seed writer\n", TargetName());
      return 2;
    }
    ::mkdir(argv[2], 0755);
    return replay.write_seeds(argv[2], std::vector<std::string>(argv + 3, argv + argc));
  }
  std::vector<std::string> paths(argv + 1, argv + argc);
  if (paths.empty() && default_corpus != nullptr) paths.emplace_back(default_corpus);
  if (paths.empty()) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE... | --write-seeds DIR [ARGS...]\n", argv[0]);
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  size_t seeds = 0, runs = 0;
  for (const std::string& p : paths) {
    for (const std::string& file : ListInputs(p)) {
      const std::string seed = ReadWholeFile(file);
      size_t n = 0;
      const RunFn run = [&](const std::string& input, const std::string& what) {
        CurrentInput() = &input;
        CurrentLabel() = file + " " + what;
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
        CurrentInput() = nullptr;
        ++n;
      };
      GenericMutations(seed, run);
      if (replay.mutate) replay.mutate(seed, run);
      printf("%-64s %6zu inputs\n", file.c_str(), n);
      ++seeds;
      runs += n;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  printf("%s: %zu seeds, %zu inputs%s%s, %.2f s, all promises kept\n", TargetName(), seeds, runs,
         replay.summary ? " " : "", replay.summary ? replay.summary().c_str() : "", seconds);
  if (seeds == 0) {
    fprintf(stderr, "%s: no seeds found\n", TargetName());
    return 1;
  }
  return 0;
}

#endif  // DUOSYNC_FUZZ_REPLAY_MAIN

}  // namespace duosync_fuzz

#endif  // DUOSYNC_TESTS_FUZZ_FUZZ_SUPPORT_H_
