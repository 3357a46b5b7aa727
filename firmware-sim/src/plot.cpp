#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "kaoko/sim/river.hpp"
#include "kaoko/sim/simulation.hpp"

namespace kaoko::sim {

std::string LevelsCsv(const alerting::Network& network, const Scenario& scenario, SimTime start, Seconds csv_step) {
  RiverModel river(network, scenario);
  std::string out = "ts,hours";
  for (const auto& s : network.stations) out += "," + s.id;
  for (const auto& v : network.villages) out += ",rain_" + v.id;
  out += '\n';
  auto row = [&] {
    Seconds t = river.Elapsed();
    out += fmt::format("{},{:.3f}", FormatRfc3339(start + t), static_cast<double>(t.count()) / 3600.0);
    for (std::size_t i = 0; i < river.StationCount(); ++i) out += fmt::format(",{:.1f}", river.StationLevelCm(i));
    for (std::size_t v = 0; v < river.VillageCount(); ++v) out += fmt::format(",{:.2f}", river.RainMmH(v));
    out += '\n';
  };
  row();
  Seconds next = csv_step;
  while (river.Elapsed() < scenario.duration) {
    river.Step();
    if (river.Elapsed() >= next) {
      row();
      next += csv_step;
    }
  }
  return out;
}

namespace {
std::string Escape(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}
}  // namespace

std::string GnuplotScript(const alerting::Network& network, const Scenario& scenario, const std::string& csv_path,
                          const std::string& png_path) {
  std::size_t n = network.stations.size();
  int panel_h = 170, rain_h = 190, width = 1200;
  int height = rain_h + static_cast<int>(n) * panel_h + 40;
  double hours = static_cast<double>(scenario.duration.count()) / 3600.0;
  double xtics = hours <= 24 ? 2 : hours <= 72 ? 6 : 12;
  // Peaks decide the y range, so that a flood over the critical line is not cut off.
  std::vector<double> peak(n, 0);
  {
    RiverModel river(network, scenario);
    while (river.Elapsed() < scenario.duration) {
      river.Step();
      for (std::size_t i = 0; i < n; ++i) peak[i] = std::max(peak[i], river.StationLevelCm(i));
    }
  }
  std::string g;
  g += fmt::format("set terminal pngcairo size {},{} font 'DejaVu Sans,9' noenhanced\n", width, height);
  g += fmt::format("set output \"{}\"\n", Escape(png_path));
  g += "set datafile separator ','\nset grid lc rgb '#dddddd'\nset key outside right top\n";
  g += fmt::format("set xrange [0:{}]\nset xtics {}\nset lmargin 10\nset rmargin 18\n", hours, xtics);
  g += fmt::format("set multiplot title \"{} — {} (seed {}); levels in cm above each gauge datum\"\n",
                   Escape(scenario.name), Escape(network.tambon_name_en), scenario.seed);
  double total = height;
  double y = 1.0 - 30.0 / total;
  // Rain panel.
  double h = rain_h / total;
  g += fmt::format("set size 1,{:.4f}\nset origin 0,{:.4f}\n", h, y - h);
  g += "set ylabel 'rain mm/h'\nset format x ''\nset title 'rain over each sub-catchment (upstream first)'\n";
  g += "plot ";
  for (std::size_t v = 0; v < network.villages.size(); ++v) {
    g += fmt::format("{}\"{}\" skip 1 using 2:{} with lines lw 1.5 title \"{}\"", v ? ", " : "", Escape(csv_path),
                     3 + n + v, Escape(network.villages[v].id));
  }
  g += "\n";
  y -= h;
  h = panel_h / total;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = network.stations[i];
    const auto* village = network.FindVillage(s.village);
    g += fmt::format("set size 1,{:.4f}\nset origin 0,{:.4f}\n", h, y - h);
    g += "unset arrow\nset ylabel 'cm'\n";
    // Travel time of the flood wave from the first village down to this one.
    double travel = 0;
    for (const auto& v : network.villages) {
      if (v.id == s.village) break;
      travel += static_cast<double>(v.travel_to_next.count()) / 3600.0;
    }
    g += fmt::format("set title \"{} — {} ({}; {:.1f} h below the first village)\"\n", s.id,
                     Escape(std::string(s.name_en())), village ? Escape(village->name_en) : s.village, travel);
    g += i + 1 == n ? "set format x '%g'\nset xlabel 'simulated hours'\n" : "set format x ''\nunset xlabel\n";
    double top = std::max({s.critical.cm * 1.15, s.critical.cm + 40, peak[i] * 1.08});
    g += fmt::format("set yrange [0:{:.0f}]\n", top);
    struct Th {
      const char* name;
      double cm;
      const char* color;
    };
    for (Th th : {Th{"watch", s.watch.cm, "#d4a000"}, Th{"warning", s.warning.cm, "#e06000"},
                  Th{"critical", s.critical.cm, "#c00000"}}) {
      g +=
          fmt::format("set arrow from graph 0, first {0} to graph 1, first {0} nohead dt 2 lw 1.5 lc rgb '{1}' front\n",
                      th.cm, th.color);
    }
    g += fmt::format(
        "plot \"{}\" skip 1 using 2:{} with lines lw 2 lc rgb '#1f5fbf' title 'level', "
        "NaN dt 2 lc rgb '#d4a000' title 'watch {:.0f}', NaN dt 2 lc rgb '#e06000' title 'warning {:.0f}', "
        "NaN dt 2 lc rgb '#c00000' title 'critical {:.0f}'\n",
        Escape(csv_path), 3 + i, s.watch.cm, s.warning.cm, s.critical.cm);
    y -= h;
  }
  g += "unset multiplot\n";
  return g;
}

namespace {
int Fail(std::ostream& err, const std::string& why) {
  err << "kaoko-sim: " << why << '\n';
  return 1;
}
}  // namespace

std::optional<std::string> CheckScenario(const SimOptions& o, const alerting::Network& network,
                                         const Scenario& scenario) {
  for (const auto& v : o.villages) {
    if (!network.FindVillage(v)) return fmt::format("--villages: there is no village '{}' in {}", v, o.network_path);
  }
  for (const auto& f : scenario.faults) {
    if (!network.FindStation(f.station))
      return fmt::format("{}: fault for unknown station '{}'", o.scenario_path, f.station);
  }
  for (const auto& e : scenario.watchers.events) {
    const auto* p = network.FindPerson(e.user);
    if (!p || p->role != alerting::Role::kWatcher) {
      return fmt::format("{}: watcher event for '{}', who is not a watcher in the network", o.scenario_path, e.user);
    }
  }
  for (const auto& id : scenario.responders.silent) {
    const auto* p = network.FindPerson(id);
    if (!p || p->role == alerting::Role::kWatcher) {
      return fmt::format(
          "{}: [responders] silent names '{}', who is not a committee member, headman, deputy "
          "or TAO officer in the network",
          o.scenario_path, id);
    }
  }
  if (const auto& id = scenario.responders.tao_on_duty; !id.empty()) {
    const auto* p = network.FindPerson(id);
    if (!p || p->role != alerting::Role::kTao) {
      return fmt::format("{}: [responders] tao_on_duty '{}' is not a TAO officer in the network", o.scenario_path, id);
    }
  }
  try {
    RiverModel check(network, scenario);
  } catch (const std::exception& e) {
    return fmt::format("{}: {}", o.scenario_path, e.what());
  }
  return std::nullopt;
}

int DryRun(const SimOptions& o, const alerting::Network& network, const Scenario& scenario, SimTime start,
           std::ostream& out, std::ostream& err) {
  std::string csv = LevelsCsv(network, scenario, start, o.csv_step);
  std::string csv_path = o.csv_path;
  if (csv_path.empty() && !o.plot_path.empty()) csv_path = o.plot_path + ".csv";
  if (!csv_path.empty()) {
    std::ofstream f(csv_path);
    if (!(f << csv)) return Fail(err, fmt::format("{}: cannot write", csv_path));
  } else {
    out << csv;
  }
  if (!o.plot_path.empty()) {
    std::string gp = o.plot_path + ".gp";
    std::ofstream(gp) << GnuplotScript(network, scenario, csv_path, o.plot_path);
    std::string cmd = fmt::format("gnuplot '{}'", gp);
    if (std::system(cmd.c_str()) != 0) {
      return Fail(err,
                  fmt::format("gnuplot failed (is it installed? Debian: apt-get install gnuplot-nox); script: {}", gp));
    }
    std::filesystem::remove(gp);
    if (o.csv_path.empty()) std::filesystem::remove(csv_path);
    out << "kaoko-sim: wrote " << o.plot_path << '\n';
  }
  // Peaks per station, as a quick check of a scenario.
  RiverModel river(network, scenario);
  std::vector<double> peak(river.StationCount(), 0);
  std::vector<Seconds> when(river.StationCount());
  while (river.Elapsed() < scenario.duration) {
    river.Step();
    for (std::size_t i = 0; i < peak.size(); ++i) {
      if (river.StationLevelCm(i) > peak[i]) {
        peak[i] = river.StationLevelCm(i);
        when[i] = river.Elapsed();
      }
    }
  }
  std::ostream& summary = (csv_path.empty() && o.plot_path.empty()) ? err : out;
  for (std::size_t i = 0; i < peak.size(); ++i) {
    const auto& s = network.stations[i];
    const char* level = peak[i] >= s.critical.cm  ? "critical"
                        : peak[i] >= s.warning.cm ? "warning"
                        : peak[i] >= s.watch.cm   ? "watch"
                                                  : "normal";
    summary << fmt::format("  {:<16} peak {:6.1f} cm at +{:5.2f} h  ({})\n", s.id, peak[i],
                           static_cast<double>(when[i].count()) / 3600.0, level);
  }
  return 0;
}

}  // namespace kaoko::sim
