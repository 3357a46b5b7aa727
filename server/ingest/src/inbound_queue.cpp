#include "inbound_queue.hpp"

namespace kaoko::server {

void InboundQueue::Push(Inbound message) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(message));
    metrics_.queue_depth = queue_.size();
  }
  cv_.notify_one();
}

void InboundQueue::PushCommand(Core::PendingCommand command) {
  {
    std::lock_guard lock(mu_);
    commands_.push_back(std::move(command));
  }
  cv_.notify_one();
}

std::size_t InboundQueue::Depth() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

bool InboundQueue::Empty() const {
  std::lock_guard lock(mu_);
  return queue_.empty();
}

bool InboundQueue::Take(std::vector<Inbound>& batch, std::size_t max, std::chrono::steady_clock::time_point wake,
                        const std::stop_token& stop) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, wake, [&] { return !queue_.empty() || stop.stop_requested(); });
  while (!queue_.empty() && batch.size() < max) {
    batch.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  metrics_.queue_depth = queue_.size();
  return queue_.empty();
}

std::vector<Core::PendingCommand> InboundQueue::TakeCommands() {
  std::vector<Core::PendingCommand> commands;
  std::lock_guard lock(mu_);
  commands.swap(commands_);
  return commands;
}

std::size_t InboundQueue::Requeue(std::vector<Inbound>& batch) {
  std::size_t kept = 0;
  std::lock_guard lock(mu_);
  for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
    if (it->topic.ends_with("/reading") || queue_.size() > 100000) continue;
    queue_.push_front(std::move(*it));
    ++kept;
  }
  return kept;
}

}  // namespace kaoko::server
