// Loading the network file (TOML) that describes one tambon into the alerting library's Network model, with every
// problem reported as "<file>:<line>:<column>: <what is wrong>" so that a TAO officer can fix it.
#pragma once

#include <string>
#include <string_view>

#include "kaoko/alerting/network.hpp"
#include "kaoko/server/result.hpp"

namespace kaoko::config {

// True for a contract identifier: 1–32 characters of a-z 0-9 '-'. Thread-safe.
bool IsIdentifier(std::string_view text);

// Reads and validates a network file. Returns the network, or an error whose reason names the file, the line and
// what is wrong (unknown keys are errors too: a typo must not silently fall back to a default). Never throws.
// Thread-safe.
Result<alerting::Network> LoadNetwork(const std::string& path);

// The same from text already in memory; `name` is used in error messages. Never throws. Thread-safe.
Result<alerting::Network> ParseNetwork(std::string_view text, const std::string& name);

// Moves the network's station texts (names and landmarks, kept in network.texts by the loader) out of memory: their
// pages are written to a file in `dir` that has no name (O_TMPFILE; else created and unlinked at once) and that file
// is mapped over them, read-only. Every station's texts stay valid; a text is then read from disk (through the page cache,
// which the kernel may drop and read again) when an alert or a page uses it. With 150,000 stations that is about
// 45 MB less resident memory (docs/architecture.md, "Station texts"). Returns the bytes moved. On any error (a
// full disk, a directory that does not allow it) the texts not yet moved stay in memory, whole, every text stays
// readable, and the error says why (and how many bytes had moved, chunks going one by one). Not thread-safe: call it
// before anything reads the network.
Result<std::size_t> MoveTextsToFile(alerting::Network& network, const std::string& dir);

}  // namespace kaoko::config
