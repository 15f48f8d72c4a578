package io.linkcorrelator.examples.ownaggregate;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The example's own aggregate: a customer's orders in one window.
 *
 * @param orders how many
 * @param totalCents their sum
 * @param largestCents the largest one
 */
public record CustomerTotals(long orders, long totalCents, long largestCents) {

  /** The serde of the output topic: {@code orders;totalCents;largestCents} in UTF-8. */
  public static final Serde<CustomerTotals> SERDE =
      Serdes.serdeFrom(
          (topic, totals) ->
              (totals.orders() + ";" + totals.totalCents() + ";" + totals.largestCents())
                  .getBytes(StandardCharsets.UTF_8),
          (topic, bytes) -> {
            String[] parts = new String(bytes, StandardCharsets.UTF_8).split(";");
            return new CustomerTotals(
                Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
          });

  /**
   * The totals of no order.
   *
   * @return zero orders
   */
  public static CustomerTotals none() {
    return new CustomerTotals(0, 0, 0);
  }

  /**
   * These totals with one more order.
   *
   * @param order the order
   * @return the new totals
   */
  public CustomerTotals add(Order order) {
    return new CustomerTotals(
        orders + 1, totalCents + order.cents(), Math.max(largestCents, order.cents()));
  }
}
