// The station texts' file backing (server side): the network loader keeps station texts in page-aligned arena chunks
// (alerting::TextArena); this moves them onto a file mapped over them.
#pragma once

#include <cstddef>
#include <string>

#include "kaoko/alerting/network.hpp"
#include "kaoko/contract/result.hpp"

namespace kaoko::app {

// Makes the arenas made from now on (the network loader's among them) take their chunks from anonymous mmap'd pages
// of the system's page size: the only chunks MoveTextsToFile can map a file over (it replaces their pages with
// mremap and unmaps their tails). Call it before loading the network. Not thread-safe: call it at start-up.
void UseFileMappableTextStorage();

// Moves the network's station texts (names and landmarks, kept in network.texts by the loader) out of memory: their
// pages are written to a file in `dir` that has no name (O_TMPFILE; else created and unlinked at once) and that file
// is mapped over them, read-only. Every station's texts stay valid; a text is then read from disk (through the page
// cache, which the kernel may drop and read again) when an alert or a page uses it. With 150,000 stations that is about
// 45 MB less resident memory (docs/architecture.md, "Station texts"). Returns the bytes moved. On any error (a
// full disk, a directory that does not allow it, texts loaded before UseFileMappableTextStorage) the texts not yet
// moved stay in memory, whole, every text stays readable, and the error says why (and how many bytes had moved, chunks
// going one by one). Not thread-safe: call it before anything reads the network.
Result<std::size_t> MoveTextsToFile(alerting::Network& network, const std::string& dir);

}  // namespace kaoko::app
