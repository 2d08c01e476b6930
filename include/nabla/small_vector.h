// A vector that keeps up to N elements inline, so shapes and strides of ordinary
// tensors never touch the heap on the dispatch path.
#pragma once
#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
#include <vector>

namespace nabla {

template <class T, std::size_t N>
class SmallVector {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  SmallVector() = default;
  SmallVector(std::initializer_list<T> init) { assign(init.begin(), init.end()); }
  explicit SmallVector(std::size_t n, const T& v = T()) { resize(n, v); }
  template <class It, class = decltype(*std::declval<It>())>
  SmallVector(It first, It last) { assign(first, last); }
  SmallVector(const std::vector<T>& v) { assign(v.begin(), v.end()); }
  SmallVector(const SmallVector& o) { assign(o.begin(), o.end()); }
  SmallVector(SmallVector&& o) noexcept { move_from(std::move(o)); }
  SmallVector& operator=(const SmallVector& o) {
    if (this != &o) assign(o.begin(), o.end());
    return *this;
  }
  SmallVector& operator=(SmallVector&& o) noexcept {
    if (this != &o) move_from(std::move(o));
    return *this;
  }

  template <class It>
  void assign(It first, It last) {
    std::size_t n = std::size_t(std::distance(first, last));
    reserve(n);
    std::copy(first, last, data());
    size_ = n;
  }
  void reserve(std::size_t n) {
    if (n <= capacity()) return;
    auto h = std::make_unique<T[]>(n);
    std::copy(begin(), end(), h.get());
    heap_ = std::move(h);
    heap_cap_ = n;
  }
  void resize(std::size_t n, const T& v = T()) {
    reserve(n);
    for (std::size_t i = size_; i < n; ++i) data()[i] = v;
    size_ = n;
  }
  void push_back(const T& v) {
    if (size_ == capacity()) reserve(std::max<std::size_t>(2 * capacity(), 1));
    data()[size_++] = v;
  }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  iterator insert(const_iterator pos, const T& v) {
    std::size_t i = std::size_t(pos - begin());
    push_back(v);
    std::rotate(begin() + i, end() - 1, end());
    return begin() + i;
  }
  iterator erase(const_iterator pos) {
    std::size_t i = std::size_t(pos - begin());
    std::rotate(begin() + i, begin() + i + 1, end());
    --size_;
    return begin() + i;
  }

  T* data() { return heap_ ? heap_.get() : inline_; }
  const T* data() const { return heap_ ? heap_.get() : inline_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return heap_ ? heap_cap_ : N; }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator!=(const SmallVector& a, const SmallVector& b) { return !(a == b); }

 private:
  void move_from(SmallVector&& o) {
    if (o.heap_) {
      heap_ = std::move(o.heap_);
      heap_cap_ = o.heap_cap_;
      size_ = o.size_;
    } else {
      heap_.reset();
      assign(o.begin(), o.end());
    }
    o.size_ = 0;
  }

  T inline_[N] = {};
  std::unique_ptr<T[]> heap_;
  std::size_t heap_cap_ = 0;
  std::size_t size_ = 0;
};

}  // namespace nabla
