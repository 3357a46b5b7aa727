// kaoko-admin: only wires the command line to kaoko::admin::RunCli.
#include <iostream>
#include <string>
#include <vector>

#include "kaoko/admin/accounts.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return kaoko::admin::RunCli(args, std::cout, std::cerr);
}
