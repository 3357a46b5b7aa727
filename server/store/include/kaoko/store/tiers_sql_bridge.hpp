// Transitional, for server/tiers alone: the store's private statement wrapper (src/stmt.hpp) and sqlite3.h, which
// tier.cpp still uses directly. Delete this file, its include at the end of store.hpp and Store::db() once the tier
// SQL has moved into the store (branch room/tiers).
#pragma once

#include "../../../src/stmt.hpp"
