// Core: the facade the other rooms call. It only wires the parts together (each in its own file here) and forwards.
#include "kaoko/ingest/core.hpp"

#include <malloc.h>

#include <algorithm>

#include "acker.hpp"
#include "batcher.hpp"
#include "dispatch.hpp"
#include "effects_publisher.hpp"
#include "engine_keeper.hpp"
#include "inbound_queue.hpp"
#include "read_model.hpp"
#include "readings_merger.hpp"

namespace kaoko::server {

namespace {
CoreOptions WithDefaults(CoreOptions options, std::size_t stations) {
  if (!options.merge_rows) {
    options.merge_rows = std::clamp<std::int64_t>(8 * static_cast<std::int64_t>(stations), 50'000, 1'200'000);
  }
  return options;
}
}  // namespace

// Declared in the order they are built: each part takes references to those before it.
struct Core::Parts {
  Parts(const alerting::Network& network, store::Store& store, Publisher& publisher, Metrics& metrics, CoreOptions opts)
      : options(WithDefaults(std::move(opts), network.stations.size())),
        views(network, options.engine),
        merger(store, metrics, options.merge_rows),
        keeper(network, store, options, views, merger),
        acker(network, views, publisher, metrics, options.ack_interval),
        effects(network, publisher, metrics, views),
        dispatch(network, store, metrics, options.tap, keeper, views),
        deliveries(network, store, options.delivery_channels),
        queue(metrics),
        batcher(options, store, metrics, {queue, views, acker, keeper, merger, effects, dispatch, deliveries}) {}

  const CoreOptions options;
  ReadModel views;
  ReadingsMerger merger;
  EngineKeeper keeper;
  Acker acker;
  EffectsPublisher effects;
  Dispatcher dispatch;
  DeliveryQueue deliveries;
  InboundQueue queue;
  Batcher batcher;
};

Core::Core(const alerting::Network& network, store::Store& writer, Publisher& publisher, Metrics& metrics,
           CoreOptions options)
    : parts_(std::make_unique<Parts>(network, writer, publisher, metrics, std::move(options))) {
  // Each station's key, kept in its slot (the store does not cache them); a station no longer in the network keeps
  // its readings under its key, unused.
  writer.ForEachStationKey([&](std::string_view name, std::int64_t key) {
    if (const int idx = network.StationIndex(name); idx >= 0)
      parts_->views.Slot(static_cast<std::size_t>(idx)).key = key;
  });
  parts_->keeper.Load();
  parts_->views.Refresh(parts_->keeper.engine(), Now(), nullptr);
  // Loading a large network and the engine's state freed a lot (the TOML document, the stored states' text): give
  // it back to the system, so that what stays resident is what the service holds.
  malloc_trim(0);
}

Core::~Core() = default;

void Core::Enqueue(Inbound message) { parts_->queue.Push(std::move(message)); }
void Core::Run(std::stop_token stop) { parts_->batcher.Run(std::move(stop)); }
bool Core::ProcessBatch(std::vector<Inbound>& batch, std::vector<PendingCommand>* commands) {
  return parts_->batcher.ProcessBatch(batch, commands);
}
void Core::AckDue(std::chrono::steady_clock::time_point now) { parts_->acker.AckDue(now); }
void Core::FlushAcks() { parts_->acker.FlushAcks(); }
void Core::MergeRecent(bool force) { parts_->merger.Merge(force); }

CommandResult Core::Run(std::function<CommandResult(TimePoint)> run) {
  PendingCommand c{std::move(run), std::make_shared<std::promise<CommandResult>>()};
  auto result = c.done->get_future();
  parts_->queue.PushCommand(std::move(c));
  return result.get();
}

std::optional<std::string> Core::Command(std::function<alerting::Effects(alerting::Engine&, TimePoint)> command) {
  return Run([this, command = std::move(command)](TimePoint now) {
           alerting::Effects fx = command(parts_->keeper.engine(), now);
           CommandResult r{fx.error, std::nullopt};
           parts_->keeper.Apply(std::move(fx));
           return r;
         })
      .error;
}

CommandResult Core::Decide(const std::string& user, const wire::DecisionMsg& decision, const std::string& via) {
  return Run(
      [this, user, decision, via](TimePoint now) { return parts_->dispatch.DecideFromApi(user, decision, via, now); });
}

void Core::SetObserver(std::function<void(std::vector<LiveEvent>)> observer, std::function<bool()> listening) {
  parts_->effects.SetObserver(std::move(observer), std::move(listening));
}

void Core::Feed(Inbound& in) { parts_->dispatch.Feed(in); }
const alerting::Engine& Core::engine() const { return parts_->keeper.engine(); }

std::vector<StationView> Core::Stations(std::string_view village) const {
  return parts_->views.Stations(village, Now());
}
std::vector<alerting::AlertState> Core::Villages(std::string_view village) const {
  return parts_->views.Villages(village);
}
std::string Core::Cap() const { return parts_->views.Cap(); }
TimePoint Core::Now() const { return NowOf(parts_->options); }
std::optional<std::string> Core::DbProblem() const { return parts_->views.DbProblem(); }
std::size_t Core::QueueDepth() const { return parts_->queue.Depth(); }

}  // namespace kaoko::server
