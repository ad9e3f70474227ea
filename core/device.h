#pragma once
// Where a tensor's memory lives. A closed set: a missing case fails the build.
#include <fmt/format.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace descent {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;  // which GPU; always 0 for the CPU

  static constexpr Device cpu() { return {DeviceType::CPU, 0}; }
  static constexpr Device cuda(int i = 0) { return {DeviceType::CUDA, i}; }
  // Device::CPU / Device::CUDA read like the enum they stand for.
  static const Device CPU;
  static const Device CUDA;

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  friend bool operator==(const Device&, const Device&) = default;
};
inline constexpr Device Device::CPU{DeviceType::CPU, 0};
inline constexpr Device Device::CUDA{DeviceType::CUDA, 0};

// `items` split per device (device_of(item) → Device), devices in order of first
// appearance, each device's items in their order: for work done once per device, such as
// one multi-tensor launch or one read back to the host.
template <class T, class DeviceOf>
std::vector<std::pair<Device, std::vector<T>>> split_by_device(std::vector<T> items,
                                                               DeviceOf device_of) {
  std::vector<std::pair<Device, std::vector<T>>> groups;
  for (T& item : items) {
    const Device dev = device_of(item);
    auto it = groups.begin();
    while (it != groups.end() && !(it->first == dev)) ++it;
    if (it == groups.end()) it = groups.insert(groups.end(), {dev, {}});
    it->second.push_back(std::move(item));
  }
  return groups;
}

}  // namespace descent

template <>
struct fmt::formatter<descent::Device> : fmt::formatter<std::string_view> {
  auto format(const descent::Device& d, format_context& ctx) const {
    if (d.is_cpu()) return fmt::formatter<std::string_view>::format("cpu", ctx);
    return fmt::format_to(ctx.out(), "cuda:{}", d.index);
  }
};
