#include "apply/dependency_tracker.h"

#include <algorithm>

namespace duosync {

DependencyTracker::Node* DependencyTracker::Find(uint64_t seq) {
  if (seq < first_seq_ || seq >= first_seq_ + nodes_.size()) return nullptr;
  return &nodes_[seq - first_seq_];
}

void DependencyTracker::Add(uint64_t seq, std::vector<uint64_t> keys, bool barrier) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<uint64_t> deps;
  if (barrier) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].done) deps.push_back(first_seq_ + i);
    }
  } else {
    for (uint64_t k : keys) {
      auto it = key_owner_.find(k);
      if (it != key_owner_.end()) deps.push_back(it->second);
    }
    if (last_barrier_ != 0) deps.push_back(last_barrier_);
  }
  std::sort(deps.begin(), deps.end());
  deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
  nodes_.emplace_back();
  Node& node = nodes_.back();
  node.barrier = barrier;
  for (uint64_t d : deps) {
    Node* dep = Find(d);
    if (dep == nullptr || dep->done) continue;
    node.deps.push_back(d);
    if (dep->released && !barrier) continue;  // it ran: this one may run (and commit after it)
    (dep->released ? dep->barrier_dependents : dep->dependents).push_back(seq);
    ++node.pending;
  }
  for (uint64_t k : keys) key_owner_[k] = seq;
  node.keys = std::move(keys);
  if (barrier) last_barrier_ = seq;
  if (node.pending == 0) ready_.insert(seq);
}

uint64_t DependencyTracker::TakeReady() {
  if (ready_.empty()) return 0;
  uint64_t seq = *ready_.begin();
  ready_.erase(ready_.begin());
  Find(seq)->taken = true;
  return seq;
}

bool DependencyTracker::done(uint64_t seq) const {
  if (seq < first_seq_) return true;
  if (seq >= first_seq_ + nodes_.size()) return false;
  return nodes_[seq - first_seq_].done;
}

void DependencyTracker::Release(uint64_t seq) {
  Node* node = Find(seq);
  if (node == nullptr || node->done || node->released || node->barrier) return;
  node->released = true;
  std::vector<uint64_t> waiting;
  waiting.swap(node->dependents);
  for (uint64_t d : waiting) {
    Node* dep = Find(d);
    if (dep == nullptr) continue;
    if (dep->barrier) {  // a barrier waits for the commit
      node->barrier_dependents.push_back(d);
      continue;
    }
    if (--dep->pending == 0 && !dep->taken) ready_.insert(d);
  }
}

void DependencyTracker::Unrelease(uint64_t seq) {
  Node* node = Find(seq);
  if (node != nullptr && !node->done) node->released = false;
}

void DependencyTracker::Complete(uint64_t seq) {
  Node* node = Find(seq);
  if (node == nullptr || node->done) return;
  node->done = true;
  for (auto* waiting : {&node->dependents, &node->barrier_dependents}) {
    for (uint64_t d : *waiting) {
      Node* dep = Find(d);
      // A transaction already taken into a batch behind this one is not ready a second time.
      if (dep != nullptr && --dep->pending == 0 && !dep->taken) ready_.insert(d);
    }
    waiting->clear();
  }
  node->deps.clear();
  for (uint64_t k : node->keys) {
    auto it = key_owner_.find(k);
    if (it != key_owner_.end() && it->second == seq) key_owner_.erase(it);
  }
  if (last_barrier_ == seq) last_barrier_ = 0;
  PopCompletedPrefix();
}

void DependencyTracker::AddDone(uint64_t seq) {
  nodes_.emplace_back();
  nodes_.back().done = true;
  PopCompletedPrefix();
}

void DependencyTracker::PopCompletedPrefix() {
  while (!nodes_.empty() && nodes_.front().done) {
    completed_prefix_ = first_seq_;
    nodes_.pop_front();
    ++first_seq_;
  }
}

uint64_t DependencyTracker::oldest_incomplete() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].done) return first_seq_ + i;
  }
  return 0;
}

}  // namespace duosync
