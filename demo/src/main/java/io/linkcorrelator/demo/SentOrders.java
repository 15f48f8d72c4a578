package io.linkcorrelator.demo;

import java.util.ArrayList;
import java.util.List;

/** What the traffic generator sent, to know which producer spans each window should link. */
final class SentOrders {

  private final List<TrafficGenerator.Sent> sent = new ArrayList<>();

  synchronized void add(TrafficGenerator.Sent order) {
    sent.add(order);
  }

  /** The orders of one customer with an event time in [start, end). */
  synchronized List<TrafficGenerator.Sent> inWindow(String customer, long start, long end) {
    return sent.stream()
        .filter(
            o -> o.customerId().equals(customer) && o.eventTime() >= start && o.eventTime() < end)
        .toList();
  }
}
