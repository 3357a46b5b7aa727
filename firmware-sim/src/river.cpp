#include "kaoko/sim/river.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kaoko::sim {

// ---------------------------------------------------------------- scenario helpers (pure)
const char* ToString(FaultKind kind) {
  switch (kind) {
    case FaultKind::kOffline:
      return "offline";
    case FaultKind::kStuck:
      return "stuck";
    case FaultKind::kSpike:
      return "spike";
    case FaultKind::kDrift:
      return "drift";
    case FaultKind::kBatteryDrain:
      return "battery";
  }
  return "offline";
}

double Scenario::RainAt(const std::string& village, double hours) const {
  double total = 0;
  for (const RainBlock& block : rain) {
    if (!block.catchments.empty() &&
        std::find(block.catchments.begin(), block.catchments.end(), village) == block.catchments.end()) {
      continue;
    }
    const auto& p = block.points;
    if (p.empty() || hours < p.front().first || hours > p.back().first) continue;
    for (std::size_t i = 0; i + 1 < p.size(); ++i) {
      if (hours >= p[i].first && hours <= p[i + 1].first) {
        double span = p[i + 1].first - p[i].first;
        double f = span > 0 ? (hours - p[i].first) / span : 0;
        total += p[i].second + f * (p[i + 1].second - p[i].second);
        break;
      }
    }
    if (p.size() == 1 && hours == p.front().first) total += p.front().second;
  }
  return std::max(0.0, total);
}

// ---------------------------------------------------------------- building blocks
LinearReservoir::LinearReservoir(double k_seconds, double initial_outflow_m3s)
    : k_(std::max(k_seconds, 1.0)), storage_(initial_outflow_m3s * k_) {}

double LinearReservoir::Step(double inflow_m3s, double dt) {
  // dS/dt = I - S/k with I constant: S(t+dt) = I·k + (S - I·k)·e^(-dt/k). Mass is kept exactly: what leaves is what
  // came in minus what stayed.
  double before = storage_;
  double equilibrium = inflow_m3s * k_;
  storage_ = equilibrium + (storage_ - equilibrium) * std::exp(-dt / k_);
  return (inflow_m3s * dt - (storage_ - before)) / dt;
}

Reach::Reach(double travel_seconds, double lag_fraction, int reservoirs, double step_seconds, double initial_flow)
    : step_(step_seconds) {
  lag_fraction = std::clamp(lag_fraction, 0.0, 1.0);
  auto slots = static_cast<std::size_t>(std::lround(travel_seconds * lag_fraction / step_seconds));
  delay_.assign(slots, initial_flow);
  double rest = travel_seconds * (1.0 - lag_fraction);
  if (rest > 0 && reservoirs > 0) {
    // A Nash cascade's mean delay is n·k but its output lags by half a step less than its input in the discrete
    // delay line; close enough at 60 s steps against travel times of an hour.
    for (int i = 0; i < reservoirs; ++i) cascade_.emplace_back(rest / reservoirs, initial_flow);
  }
}

double Reach::Step(double inflow) {
  double flow = inflow;
  if (!delay_.empty()) {
    delay_.push_back(inflow);
    flow = delay_.front();
    delay_.pop_front();
  }
  for (LinearReservoir& r : cascade_) flow = r.Step(flow, step_);
  return flow;
}

double Reach::Storage() const {
  double s = 0;
  for (double q : delay_) s += q * step_;
  for (const LinearReservoir& r : cascade_) s += r.Storage();
  return s;
}

double RatingCurve::LevelCm(double q) const { return h0_cm + a * std::pow(std::max(q, 0.0), b); }

double WaterBalance::RelativeError() const {
  double in = rain_in + baseflow_in;
  if (in <= 0) return 0;
  return std::abs(in - (losses + (storage - initial_storage) + outflow)) / in;
}

// ---------------------------------------------------------------- the river
RiverModel::RiverModel(const alerting::Network& network, const Scenario& scenario) : scenario_(&scenario) {
  const RiverDefaults& d = scenario.river;
  double step = static_cast<double>(std::max<long long>(scenario.step.count(), 1));
  internal_step_ = step / std::ceil(step / 60.0);

  for (const auto& [id, _] : scenario.catchments) {
    if (network.VillageIndex(id) < 0) throw std::invalid_argument("scenario: unknown village '" + id + "'");
  }
  for (const auto& [id, _] : scenario.stations) {
    if (!network.FindStation(id)) throw std::invalid_argument("scenario: unknown station '" + id + "'");
  }

  std::size_t n = network.villages.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string& id = network.villages[i].id;
    village_ids_.push_back(id);
    CatchmentParams c;
    c.area_km2 = i == 0 ? d.headwater_area_km2 : d.local_area_km2;
    c.runoff_coefficient = d.runoff_coefficient;
    c.nash_n = d.nash_n;
    c.nash_k_hours = d.nash_k_hours;
    double baseflow_specific = d.baseflow_m3s_per_km2;
    if (auto it = scenario.catchments.find(id); it != scenario.catchments.end()) {
      const CatchmentOverride& o = it->second;
      c.area_km2 = o.area_km2.value_or(c.area_km2);
      c.runoff_coefficient = o.runoff_coefficient.value_or(c.runoff_coefficient);
      c.nash_n = o.nash_n.value_or(c.nash_n);
      c.nash_k_hours = o.nash_k_hours.value_or(c.nash_k_hours);
      baseflow_specific = o.baseflow_m3s_per_km2.value_or(baseflow_specific);
    }
    c.baseflow_m3s = baseflow_specific * c.area_km2;
    catchments_.push_back(c);
    CatchmentState state;
    for (int k = 0; k < std::max(1, c.nash_n); ++k) state.cascade.emplace_back(c.nash_k_hours * 3600.0, 0.0);
    nash_.push_back(std::move(state));
  }

  // Start in steady state: every village carries the base flow of everything upstream.
  discharge_.assign(n, 0);
  double flow = 0;
  for (std::size_t i = 0; i < n; ++i) {
    flow += catchments_[i].baseflow_m3s;
    discharge_[i] = flow;
    if (i + 1 < n) {
      reaches_.emplace_back(static_cast<double>(network.villages[i].travel_to_next.count()), d.lag_fraction,
                            d.reach_reservoirs, internal_step_, flow);
    }
  }
  reach_out_.assign(n, 0);
  for (std::size_t i = 0; i + 1 < n; ++i) reach_out_[i] = discharge_[i];
  rain_now_.assign(n, 0);

  // Rating curves: calibrated so that base flow stands at a share of `watch` and the bankfull discharge (per km² of
  // catchment upstream) reaches `warning`, unless the scenario gives the curve.
  std::vector<double> area_upstream(n, 0);
  double area = 0;
  for (std::size_t i = 0; i < n; ++i) area_upstream[i] = (area += catchments_[i].area_km2);
  for (const alerting::Station& s : network.stations) {
    StationState st;
    int v = network.VillageIndex(s.village);
    if (v < 0) throw std::invalid_argument("network: station '" + s.id + "' has an unknown village");
    st.village = static_cast<std::size_t>(v);
    auto it = scenario.stations.find(s.id);
    if (it != scenario.stations.end() && it->second.rating) {
      st.rating = RatingCurve{it->second.rating->h0_cm, it->second.rating->a, it->second.rating->b};
    } else {
      double q_base = discharge_[st.village];
      double q_bank = d.bankfull_m3s_per_km2 * area_upstream[st.village];
      double h_base = d.base_fraction_of_watch * s.watch.cm;
      double b = d.rating_b;
      double a = (s.warning.cm - h_base) / (std::pow(q_bank, b) - std::pow(q_base, b));
      st.rating = RatingCurve{h_base - a * std::pow(q_base, b), a, b};
    }
    stations_.push_back(st);
  }

  // Seeded rain noise, one factor per village and simulated hour (drawn in a fixed order: deterministic).
  std::mt19937_64 rng(scenario.seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto hours = static_cast<std::size_t>(scenario.duration.count() / 3600 + 2);
  noise_.assign(n, std::vector<double>(hours, 1.0));
  for (std::size_t h = 0; h < hours; ++h) {
    for (std::size_t i = 0; i < n; ++i) noise_[i][h] = std::max(0.0, 1.0 + scenario.rain_variability * normal(rng));
  }

  balance_.initial_storage = balance_.storage = 0;
  for (const auto& r : reaches_) balance_.initial_storage += r.Storage();
  balance_.storage = balance_.initial_storage;
}

double RiverModel::RainIntensity(std::size_t village, double hours) const {
  double base = scenario_->RainAt(village_ids_[village], hours);
  if (base <= 0) return 0;
  auto h = static_cast<std::size_t>(std::max(0.0, hours));
  const auto& row = noise_[village];
  // Interpolate between hourly factors so the noise does not make steps in the hydrograph.
  double f0 = row[std::min(h, row.size() - 1)];
  double f1 = row[std::min(h + 1, row.size() - 1)];
  double frac = hours - static_cast<double>(h);
  return base * (f0 + (f1 - f0) * frac);
}

void RiverModel::Step() {
  double step = static_cast<double>(std::max<long long>(scenario_->step.count(), 1));
  int sub = static_cast<int>(std::lround(step / internal_step_));
  for (int i = 0; i < sub; ++i) SubStep(internal_step_);
}

void RiverModel::SubStep(double dt) {
  double hours_mid = (elapsed_ + dt / 2) / 3600.0;
  std::size_t n = catchments_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const CatchmentParams& c = catchments_[i];
    double rain = RainIntensity(i, hours_mid);
    rain_now_[i] = rain;
    double rain_m3s = rain * c.area_km2 / 3.6;  // mm/h over km² → m³/s
    double quick = rain_m3s * c.runoff_coefficient;
    balance_.rain_in += rain_m3s * dt;
    balance_.losses += (rain_m3s - quick) * dt;
    balance_.baseflow_in += c.baseflow_m3s * dt;
    double flow = quick;
    for (LinearReservoir& r : nash_[i].cascade) flow = r.Step(flow, dt);
    double q = flow + c.baseflow_m3s + (i > 0 ? reach_out_[i - 1] : 0.0);
    discharge_[i] = q;
    if (i + 1 < n) {
      reach_out_[i] = reaches_[i].Step(q);
    } else {
      balance_.outflow += q * dt;
    }
  }
  elapsed_ += dt;
}

double RiverModel::StationLevelCm(std::size_t station) const {
  const StationState& s = stations_[station];
  return s.rating.LevelCm(discharge_[s.village]);
}

double RiverModel::StationRainMmH(std::size_t station) const { return rain_now_[stations_[station].village]; }

WaterBalance RiverModel::Balance() const {
  WaterBalance b = balance_;
  b.storage = 0;
  for (const auto& r : reaches_) b.storage += r.Storage();
  for (const auto& c : nash_) {
    for (const auto& r : c.cascade) b.storage += r.Storage();
  }
  return b;
}

}  // namespace kaoko::sim
