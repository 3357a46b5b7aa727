// The river model: rain over each village's sub-catchment becomes discharge through a Nash cascade of linear
// reservoirs, is routed downstream village by village (a pure lag plus a cascade of linear reservoirs, together the
// configured travel time: the mean delay of a wave equals the travel time, the reservoirs flatten it), and becomes a
// level at each station through a rating curve h = h0 + a·Q^b. Pure: no I/O, no clock, no global state; the only
// randomness is the seeded rain noise. Not thread-safe (one owner); deterministic for a given network and scenario.
//
//   RiverModel river(network, scenario);
//   while (river.Elapsed() < scenario.duration) river.Step();
//   double cm = river.StationLevelCm(0);
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "kaoko/alerting/network.hpp"
#include "kaoko/sim/scenario.hpp"

namespace kaoko::sim {

// One linear reservoir (outflow = storage / k), integrated exactly for an inflow constant over a step.
class LinearReservoir {
 public:
  explicit LinearReservoir(double k_seconds, double initial_outflow_m3s = 0);
  // Feeds `inflow` m³/s for `dt` seconds; returns the mean outflow over the step (m³/s).
  double Step(double inflow_m3s, double dt_seconds);
  double Storage() const { return storage_; }  // m³
  double Outflow() const { return storage_ / k_; }

 private:
  double k_;
  double storage_;
};

// A reach between two villages: a delay line of lag seconds, then `reservoirs` linear reservoirs sharing the rest.
class Reach {
 public:
  Reach(double travel_seconds, double lag_fraction, int reservoirs, double step_seconds, double initial_flow_m3s);
  double Step(double inflow_m3s);  // one internal step; returns mean outflow
  double Storage() const;          // m³ in the delay line and the reservoirs

 private:
  double step_;
  std::deque<double> delay_;  // flows waiting to leave, one per internal step
  std::vector<LinearReservoir> cascade_;
};

struct CatchmentParams {
  double area_km2 = 0;
  double runoff_coefficient = 0.6;
  int nash_n = 3;
  double nash_k_hours = 1;
  double baseflow_m3s = 0;
};

struct RatingCurve {
  double h0_cm = 0;
  double a = 1;
  double b = 0.5;
  double LevelCm(double discharge_m3s) const;
};

// Cumulative volumes since the start (m³): rain_in + baseflow_in = losses + (storage - initial_storage) + outflow.
struct WaterBalance {
  double rain_in = 0;
  double baseflow_in = 0;
  double losses = 0;  // rain that does not run off (infiltration, evaporation)
  double initial_storage = 0;
  double storage = 0;
  double outflow = 0;  // past the last village
  // |inputs - (losses + Δstorage + outflow)| / inputs; 0 when nothing came in.
  double RelativeError() const;
};

class RiverModel {
 public:
  // Builds the model for `network` (villages upstream first, travel_to_next) and the scenario's rain and parameters.
  // Throws std::invalid_argument when the scenario names an unknown village or station.
  RiverModel(const alerting::Network& network, const Scenario& scenario);

  // Advances the model by one scenario step (sub-stepped internally to at most 60 s).
  void Step();
  Seconds Elapsed() const { return Seconds(static_cast<long long>(elapsed_ + 0.5)); }

  std::size_t VillageCount() const { return catchments_.size(); }
  std::size_t StationCount() const { return stations_.size(); }
  double DischargeM3s(std::size_t village) const { return discharge_[village]; }
  double RainMmH(std::size_t village) const { return rain_now_[village]; }  // intensity in the last step
  double StationLevelCm(std::size_t station) const;                         // true level above the datum
  double StationRainMmH(std::size_t station) const;
  std::size_t StationVillage(std::size_t station) const { return stations_[station].village; }
  const RatingCurve& Rating(std::size_t station) const { return stations_[station].rating; }
  const CatchmentParams& Catchment(std::size_t village) const { return catchments_[village]; }
  WaterBalance Balance() const;

  // Rain intensity with the seeded hour-to-hour noise applied (mm/h) at `hours` for a village.
  double RainIntensity(std::size_t village, double hours) const;

 private:
  struct StationState {
    std::size_t village = 0;
    RatingCurve rating;
  };
  struct CatchmentState {
    std::vector<LinearReservoir> cascade;
  };

  void SubStep(double dt);

  const Scenario* scenario_;
  std::vector<std::string> village_ids_;
  std::vector<CatchmentParams> catchments_;
  std::vector<CatchmentState> nash_;
  std::vector<Reach> reaches_;  // reaches_[i] carries village i to village i+1
  std::vector<StationState> stations_;
  std::vector<std::vector<double>> noise_;  // [village][hour] multiplicative rain noise
  std::vector<double> discharge_;           // m³/s at each village, mean over the last sub-step
  std::vector<double> rain_now_;
  std::vector<double> reach_out_;  // last outflow of each reach (arrives at the next village)
  double elapsed_ = 0;
  double internal_step_ = 60;
  WaterBalance balance_;
};

}  // namespace kaoko::sim
