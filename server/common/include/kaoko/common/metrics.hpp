// Counters for /metrics (Prometheus text format). Counters are atomics or mutex-guarded maps: safe to bump from the
// core thread and render from an HTTP thread at the same time.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kaoko::server {

// A fixed-bucket latency histogram in seconds (Prometheus histogram semantics).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double seconds);
  // Appends the histogram's text exposition under `name`.
  void Render(std::string& out, const std::string& name, const std::string& help) const;
  std::uint64_t count() const;

 private:
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::vector<std::uint64_t> buckets_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();
  // A counter with one label (e.g. reason="bad_json"); created on first use.
  void Count(const std::string& family, const std::string& label_value, std::uint64_t n = 1);
  std::uint64_t Get(const std::string& family, const std::string& label_value) const;
  // A gauge set by its owner (e.g. incidents by stage); replaces all label values of the family at once.
  void SetGauge(const std::string& family, const std::map<std::string, double>& values);

  std::atomic<std::uint64_t> readings_accepted{0};
  std::atomic<std::uint64_t> readings_duplicate{0};
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> acks_published{0};
  std::atomic<std::uint64_t> mqtt_out_queued{0};     // publishes waiting in MqttLink's own queue
  std::atomic<std::uint64_t> mqtt_out_in_client{0};  // handed to Paho, not yet acknowledged by the broker
  std::atomic<std::uint64_t> db_errors{0};
  std::atomic<std::uint64_t> live_sessions{0};  // screens on the live feed (LiveHub keeps it)
  Histogram alert_latency;                      // reading received → alert published
  Histogram store_latency;                      // message received → committed
  Histogram delivery_to_sent;                   // a delivery queued (the alert) → its gateway accepted it
  Histogram delivery_to_delivered;              // a delivery queued → the phone's receipt

  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::uint64_t>> labelled_;
  std::map<std::string, std::map<std::string, double>> gauges_;
};

}  // namespace kaoko::server
