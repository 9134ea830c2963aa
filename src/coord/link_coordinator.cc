#include "coord/link_coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "apply/fence.h"
#include "glog/logging.h"

namespace duosync {

namespace {

// "host:pid/n-random": the random part keeps two containers with the same host name and pid apart.
std::string NewMemberId() {
  static std::atomic<uint64_t> counter{0};
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  std::random_device random;
  return absl::StrCat(host[0] ? host : "unknown-host", ":", getpid(), "/", ++counter, "-",
                      absl::Hex(random(), absl::kZeroPad8));
}

// The process a member id belongs to ("host:pid"): load is counted per process.
std::string ProcessOf(const std::string& member) { return member.substr(0, member.rfind('/')); }

constexpr size_t kTakeoversKept = 20;

}  // namespace

struct LinkCoordinator::State {
  CoordinatorSettings settings;
  CoordinatorHooks hooks;
  std::string self = NewMemberId();
  std::string members_prefix, owners_prefix, owners_root;
  absl::Duration ttl, tick;
  std::unique_ptr<EtcdClient> lease_client;      // the lease thread's own connections
  std::unique_ptr<EtcdClient> reconcile_client;  // so that a slow read never delays a renewal

  std::atomic<bool> stopping{false};
  std::atomic<bool> lease_done{false};  // the lease thread ends after the links have stopped
  std::mutex wake_mu;
  std::condition_variable wake;
  std::thread lease_thread, reconcile_thread, watchdog_thread;
  // One per link: a start and a stop of one link never overlap (the reconcile thread starts and
  // stops links, the watchdog stops them).
  std::map<std::string, std::unique_ptr<std::mutex>> link_mu;

  mutable std::mutex mu;       // guards what follows
  int64_t lease = 0;           // 0: none held
  // When the last successful renewal (or grant) was sent: on the monotonic clock for the safety
  // decision (a wall-clock step must not keep a lapsed lease "healthy"), on the wall clock for status.
  std::chrono::steady_clock::time_point renewed_steady;
  absl::Time renewed_at;
  std::string last_error;
  std::vector<std::string> members;                 // as last read
  std::map<std::string, LinkView> links;            // per link of the project
  // The reconcile thread's own memory (read only by it, kept here for Status).
  std::map<std::string, std::string> last_owner;    // last other member seen owning the link
  std::map<std::string, absl::Time> owner_alive;    // that owner's last renewal, as etcd showed it
  std::map<std::string, absl::Time> free_since;
  std::map<std::string, absl::Time> member_since;
  std::map<std::string, absl::Time> retry_after;    // a link whose start failed here
  std::map<std::string, absl::Time> gave_up_at;     // links given up to balance, and when

  bool LeaseHealthy() const {  // REQUIRES: mu held
    return lease != 0 &&
           std::chrono::steady_clock::now() - renewed_steady < absl::ToChronoNanoseconds(ttl - ttl / 3);
  }

  std::string MemberKey() const { return members_prefix + self; }
  std::string OwnerKey(const std::string& link) const { return owners_prefix + link; }

  absl::Status Register() {
    const absl::Time sent = absl::Now();
    const auto sent_steady = std::chrono::steady_clock::now();
    auto granted = lease_client->GrantLease(settings.lease_ttl_seconds);
    if (!granted.ok()) return granted.status();
    absl::Status s = lease_client->Put(MemberKey(), self, *granted);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu);
    lease = *granted;
    renewed_at = sent;
    renewed_steady = sent_steady;
    return absl::OkStatus();
  }

  // Sleeps `d`, or less once `until` is set (stopping; lease_done for the lease thread).
  void SleepFor(absl::Duration d, const std::atomic<bool>& until) {
    std::unique_lock<std::mutex> lock(wake_mu);
    wake.wait_for(lock, absl::ToChronoNanoseconds(d), [&until] { return until.load(); });
  }
  void SleepFor(absl::Duration d) { SleepFor(d, stopping); }

  void LeaseLoop() {
    while (!lease_done) {
      int64_t held;
      {
        std::lock_guard<std::mutex> lock(mu);
        held = lease;
      }
      absl::Status s;
      if (held == 0) {
        s = Register();
        if (s.ok()) LOG(WARNING) << "coordination: " << self << " registered again under a new lease";
      } else {
        const absl::Time sent = absl::Now();
        const auto sent_steady = std::chrono::steady_clock::now();
        s = lease_client->KeepAlive(held);
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok() && lease == held) {
          renewed_at = sent;
          renewed_steady = sent_steady;
        }
        if (absl::IsNotFound(s) && lease == held) {
          // Expired in etcd's view: every key of ours is gone; others may own our links now.
          LOG(WARNING) << "coordination: " << self << "'s lease expired; it owns nothing now";
          lease = 0;
        }
      }
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        last_error = std::string(s.message());
      }
      wake.notify_all();  // the reconcile thread re-checks the lease's health
      SleepFor(tick, lease_done);
    }
  }

  // Stops a link run here. REQUIRES: mu not held (stopping joins threads).
  void StopHere(const std::string& link) {
    std::lock_guard<std::mutex> op(*link_mu.at(link));
    hooks.stop(link);
    std::lock_guard<std::mutex> lock(mu);
    links[link].here = false;
  }

  // Stops every link run here as soon as the lease is at risk, whatever the reconcile thread is
  // waiting for (an etcd call to a partitioned member takes a timeout per endpoint).
  void WatchdogLoop() {
    while (!stopping) {
      std::vector<std::string> here;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!LeaseHealthy()) {
          for (const auto& [link, view] : links) {
            if (view.here) here.push_back(link);
          }
        }
      }
      for (const std::string& link : here) {
        LOG(WARNING) << "coordination: " << self << " cannot renew its lease; stopping the " << link << " link";
        StopHere(link);
      }
      SleepFor(absl::Milliseconds(100));
    }
  }

  void RecordTakeover(const std::string& link, uint64_t epoch, absl::Time now) {
    report::Takeover t;
    t.set_at_unix_ms(static_cast<uint64_t>(absl::ToUnixMillis(now)));
    t.set_epoch(epoch);
    auto owner = last_owner.find(link);
    absl::Time since = free_since.count(link) ? free_since[link] : now;
    if (owner != last_owner.end()) {
      t.set_from_member(owner->second);
      if (owner_alive.count(link)) since = std::min(since, owner_alive[link]);
    }
    t.set_unowned_seconds(absl::ToDoubleSeconds(now - since));
    LOG(INFO) << "coordination: " << self << " took the " << link << " link over"
              << (t.from_member().empty() ? "" : " from ") << t.from_member() << " (epoch " << epoch
              << ", unowned " << t.unowned_seconds() << " s)";
    std::lock_guard<std::mutex> lock(mu);
    auto& list = links[link].takeovers;
    list.push_back(t);
    if (list.size() > kTakeoversKept) list.erase(list.begin());
  }

  void Take(const std::string& link, int64_t held) {
    auto created = reconcile_client->CreateIfAbsent(OwnerKey(link), self, held);
    if (!created.ok() || !*created) return;  // another member won it
    StartOwned(link, /*takeover=*/true);
  }

  // Runs a link whose owner key is ours. A start that fails gives the key back for a while.
  void StartOwned(const std::string& link, bool takeover) {
    absl::StatusOr<uint64_t> epoch;
    {
      std::lock_guard<std::mutex> op(*link_mu.at(link));
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!LeaseHealthy()) return;  // the watchdog would stop it at once
      }
      epoch = hooks.start(link);
      if (epoch.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        links[link].here = true;
        links[link].owner = self;
      } else {
        hooks.stop(link);
      }
    }
    const absl::Time now = absl::Now();
    if (!epoch.ok()) {
      LOG(WARNING) << "coordination: cannot start the " << link << " link here: " << epoch.status();
      (void)reconcile_client->DeleteIfValue(OwnerKey(link), self);
      std::lock_guard<std::mutex> lock(mu);
      last_error = absl::StrCat("starting the ", link, " link: ", epoch.status().message());
      retry_after[link] = now + 2 * ttl;
      return;
    }
    if (takeover) RecordTakeover(link, *epoch, now);
    free_since.erase(link);
  }

  void Reconcile() {
    const absl::Time now = absl::Now();
    int64_t held;
    bool healthy;
    std::set<std::string> here;
    {
      std::lock_guard<std::mutex> lock(mu);
      held = lease;
      healthy = LeaseHealthy();
      for (const auto& [link, view] : links) {
        if (view.here) here.insert(link);
      }
    }
    if (!healthy) return;  // the watchdog stops what runs here; nothing is decided meanwhile
    auto all = reconcile_client->ReadPrefix(settings.key_prefix + "/");
    if (!all.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      last_error = std::string(all.status().message());
      return;
    }
    std::map<std::string, std::string> owners;           // this project's links
    std::map<std::string, int64_t> owner_lease;
    std::map<std::string, int> process_load;             // "host:pid" -> links owned, all projects
    std::vector<std::string> members;
    for (const EtcdKeyValue& kv : *all) {
      if (kv.key.rfind(members_prefix, 0) == 0) {
        members.push_back(kv.key.substr(members_prefix.size()));
      } else if (kv.key.rfind(owners_root, 0) == 0) {
        ++process_load[ProcessOf(kv.value)];
        if (kv.key.rfind(owners_prefix, 0) == 0) {
          const std::string link = kv.key.substr(owners_prefix.size());
          owners[link] = kv.value;
          owner_lease[link] = kv.lease;
        }
      }
    }
    for (const std::string& m : members) member_since.emplace(m, now);
    for (auto it = member_since.begin(); it != member_since.end();) {
      it = std::find(members.begin(), members.end(), it->first) == members.end() ? member_since.erase(it) : ++it;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      this->members = members;
      for (const std::string& link : settings.links) links[link].owner = owners[link];
    }

    for (const std::string& link : settings.links) {
      const std::string& owner = owners[link];
      if (here.count(link)) {
        absl::Status s = hooks.state(link);
        if (owner != self) {
          // Our key is gone (the lease expired while we could not tell) or belongs to another.
          LOG(WARNING) << "coordination: the " << link << " link is owned by " << (owner.empty() ? "nobody" : owner)
                       << " now; stopping it here";
          StopHere(link);
          here.erase(link);
        } else if (!s.ok() && IsFenced(s)) {
          StopHere(link);
          here.erase(link);
          (void)reconcile_client->DeleteIfValue(OwnerKey(link), self);
        }
        // Any other end (a failed link) stays here and visible: the process reports it.
      } else if (owner == self) {
        // Ours in etcd but not running: stopped while the lease was at risk, and it held.
        StartOwned(link, /*takeover=*/false);
        here.insert(link);
      }
      if (owner.empty()) {
        free_since.emplace(link, now);
      } else {
        free_since.erase(link);
        if (owner != self) {
          last_owner[link] = owner;
          // When that owner last renewed: etcd's remaining TTL says so (to the second).
          auto ttl_left = reconcile_client->TimeToLive(owner_lease[link]);
          if (ttl_left.ok()) {
            owner_alive[link] = now - absl::Seconds(ttl_left->second - ttl_left->first);
          }
        }
      }
    }

    OwnershipView view;
    view.self = self;
    for (const std::string& m : members) {
      view.members[m] = now - member_since[m];
      view.load[m] = process_load[ProcessOf(m)];
    }
    if (!view.members.count(self)) return;  // our member key is not visible yet
    for (const std::string& link : settings.links) {
      view.owners[link] = owners[link];
      if (free_since.count(link)) view.free_for[link] = now - free_since[link];
      if (retry_after.count(link) && now < retry_after[link]) view.owners[link] = "(retrying)";
      // Given up to balance and back here within a minute: the other member could not keep it.
      if (owners[link] == self && gave_up_at.count(link) && now - gave_up_at[link] < absl::Minutes(1)) {
        view.keep.insert(link);
      }
    }
    const OwnershipPlan plan = PlanOwnership(view, settings.links, settings.rules);
    for (const std::string& link : plan.take) Take(link, held);
    for (const std::string& link : plan.give_up) {
      LOG(INFO) << "coordination: " << self << " gives the " << link << " link up to spread the links";
      gave_up_at[link] = now;
      StopHere(link);
      (void)reconcile_client->DeleteIfValue(OwnerKey(link), self);
    }
  }

  void ReconcileLoop() {
    while (!stopping) {
      Reconcile();
      SleepFor(tick);
    }
  }
};

absl::StatusOr<std::unique_ptr<LinkCoordinator>> LinkCoordinator::Start(const CoordinatorSettings& settings,
                                                                         CoordinatorHooks hooks) {
  auto state = std::make_unique<State>();
  state->settings = settings;
  state->hooks = std::move(hooks);
  state->ttl = absl::Seconds(settings.lease_ttl_seconds);
  state->tick = state->ttl / 6;
  state->members_prefix = absl::StrCat(settings.key_prefix, "/members/", settings.project, "/");
  state->owners_root = absl::StrCat(settings.key_prefix, "/owners/");
  state->owners_prefix = absl::StrCat(state->owners_root, settings.project, "/");
  auto lease_client = EtcdClient::Create(settings.etcd);
  if (!lease_client.ok()) return lease_client.status();
  auto reconcile_client = EtcdClient::Create(settings.etcd);
  if (!reconcile_client.ok()) return reconcile_client.status();
  state->lease_client = *std::move(lease_client);
  state->reconcile_client = *std::move(reconcile_client);
  absl::Status registered = state->Register();
  if (!registered.ok()) {
    return absl::Status(registered.code(),
                        absl::StrCat("coordination: cannot register with etcd at ",
                                     absl::StrJoin(settings.etcd.endpoints, ", "), ": ", registered.message()));
  }
  for (const std::string& link : settings.links) {
    state->links[link];
    state->link_mu[link] = std::make_unique<std::mutex>();
  }
  LOG(INFO) << "coordination: " << state->self << " serves project " << settings.project << " (lease TTL "
            << settings.lease_ttl_seconds << " s)";
  State* s = state.get();
  s->lease_thread = std::thread([s] { s->LeaseLoop(); });
  s->reconcile_thread = std::thread([s] { s->ReconcileLoop(); });
  s->watchdog_thread = std::thread([s] { s->WatchdogLoop(); });
  return std::unique_ptr<LinkCoordinator>(new LinkCoordinator(std::move(state)));
}

LinkCoordinator::LinkCoordinator(std::unique_ptr<State> state) : state_(std::move(state)) {}

LinkCoordinator::~LinkCoordinator() { Stop(); }

void LinkCoordinator::Stop() {
  State* s = state_.get();
  if (s->stopping.exchange(true)) return;
  s->wake.notify_all();
  if (s->reconcile_thread.joinable()) s->reconcile_thread.join();
  if (s->watchdog_thread.joinable()) s->watchdog_thread.join();
  std::vector<std::string> here;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    for (const auto& [link, view] : s->links) {
      if (view.here) here.push_back(link);
    }
  }
  // The lease is renewed until the links have stopped (a slow stop must not outlive it).
  for (const std::string& link : here) s->StopHere(link);
  s->lease_done = true;
  s->wake.notify_all();
  if (s->lease_thread.joinable()) s->lease_thread.join();
  int64_t lease;
  {
    std::lock_guard<std::mutex> lock(s->mu);
    lease = s->lease;
  }
  // Others take over now rather than after the TTL: the links are stopped, nothing more is written.
  for (const std::string& link : here) (void)s->reconcile_client->DeleteIfValue(s->OwnerKey(link), s->self);
  if (lease != 0) (void)s->lease_client->Revoke(lease);
}

LinkCoordinator::LinkView LinkCoordinator::View(const std::string& link) const {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->links.find(link);
  return it == state_->links.end() ? LinkView() : it->second;
}

report::CoordinationStatus LinkCoordinator::Status() const {
  report::CoordinationStatus out;
  const absl::Time now = absl::Now();
  std::lock_guard<std::mutex> lock(state_->mu);
  out.set_member(state_->self);
  for (const std::string& m : state_->members) out.add_members(m);
  out.set_lease_held(state_->LeaseHealthy());
  if (state_->lease != 0) out.set_lease_renewed_seconds_ago(absl::ToDoubleSeconds(now - state_->renewed_at));
  out.set_lease_ttl_seconds(state_->settings.lease_ttl_seconds);
  out.set_last_error(state_->last_error);
  return out;
}

}  // namespace duosync
