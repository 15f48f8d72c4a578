package io.linkcorrelator.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.WindowType;
import io.linkcorrelator.streams.WindowSpec;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bad configuration fails at build time with a message naming the key. */
class CorrelatorConfigTest {

  private static CorrelatorConfig.Builder valid() {
    return CorrelatorConfig.builder()
        .applicationId("app")
        .inputTopics("in")
        .outputTopic("out")
        .window(WindowSpec.tumbling(Duration.ofMinutes(1), Duration.ZERO));
  }

  @Test
  void theDefaultsKeepEveryLinkWithinOpenTelemetryAndDatadogLimits() {
    CorrelatorConfig config = valid().build();
    assertThat(config.maxLinksPerSpan()).isEqualTo(128);
    assertThat(config.maxLinksJsonChars()).isEqualTo(25_000);
    assertThat(config.groupBy()).isEqualTo(GroupBy.recordKey());
    assertThat(config.aggregateField()).isNull();
  }

  @Test
  void missingRequiredValuesNameTheirKey() {
    assertThatThrownBy(() -> valid().applicationId(" ").build())
        .hasMessageContaining("application.id");
    assertThatThrownBy(() -> valid().inputTopics().build())
        .hasMessageContaining("correlator.input.topics");
    assertThatThrownBy(() -> valid().outputTopic(null).build())
        .hasMessageContaining("correlator.output.topic");
    assertThatThrownBy(() -> valid().outputTopic("in").build())
        .hasMessageContaining(
            "correlator.output.topic in must not be one of correlator.input.topics");
    assertThatThrownBy(() -> valid().window(null).build())
        .hasMessageContaining("correlator.window.type");
  }

  @Test
  void badWindowValuesNameTheirKey() {
    assertThatThrownBy(() -> WindowSpec.tumbling(Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("correlator.window.size.ms must be > 0");
    assertThatThrownBy(
            () -> WindowSpec.hopping(Duration.ofSeconds(5), Duration.ofSeconds(6), Duration.ZERO))
        .hasMessageContaining("correlator.window.advance.ms");
    assertThatThrownBy(() -> WindowSpec.tumbling(Duration.ofSeconds(5), Duration.ofSeconds(-1)))
        .hasMessageContaining("correlator.window.grace.ms");
    assertThatThrownBy(() -> WindowSpec.session(Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("correlator.window.gap.ms");
    assertThatThrownBy(() -> WindowSpec.sliding(Duration.ZERO, Duration.ZERO))
        .hasMessageContaining("correlator.window.size.ms");
    assertThatThrownBy(() -> new WindowSpec(WindowType.UNKNOWN, 1, 1, 0, 0))
        .hasMessageContaining(
            "correlator.window.type must be one of tumbling, hopping, sliding, session");
  }

  @Test
  void valueFieldsNeedASchemaThatHasThem() {
    assertThatThrownBy(() -> valid().aggregateField("amount").build())
        .hasMessageContaining(
            "correlator.value.format must be json or avro (with correlator.value.schema)");
    assertThatThrownBy(() -> valid().valueSchema(Order.SCHEMA$).aggregateField("amout").build())
        .hasMessageContaining("correlator.aggregate.field amout: no field amout")
        .hasMessageContaining("amount");
    assertThatThrownBy(
            () ->
                valid()
                    .valueSchema(Order.SCHEMA$)
                    .groupBy(GroupBy.valueField("customerId.x"))
                    .build())
        .hasMessageContaining("correlator.group.by customerId.x: not a record before x");
    assertThat(valid().valueSchema(Order.SCHEMA$).groupBy(GroupBy.valueField("customerId")).build())
        .isNotNull();
  }

  @Test
  void linkBudgetsMustLeaveRoomForALink() {
    assertThatThrownBy(() -> valid().maxLinksPerSpan(0).build())
        .hasMessageContaining("correlator.links.per.span.max");
    assertThatThrownBy(() -> valid().maxLinksJsonChars(100).build())
        .hasMessageContaining("correlator.links.json.max.chars must be >= 2000");
  }

  @Test
  void idlenessSettingsNameTheirKeyAndIdleClosingWaitsLongerThanAPartitionCanLag() {
    assertThat(valid().build().partitionIdleMs())
        .isEqualTo(CorrelatorConfig.DEFAULT_PARTITION_IDLE_MS);
    assertThat(valid().build().windowIdleCloseMs())
        .isEqualTo(CorrelatorConfig.DEFAULT_WINDOW_IDLE_CLOSE_MS);
    assertThatThrownBy(() -> valid().partitionIdleMs(0).build())
        .hasMessageContaining("correlator.partition.idle.ms");
    assertThatThrownBy(() -> valid().windowIdleCloseMs(-1).build())
        .hasMessageContaining("correlator.window.idle.close.ms");
    assertThatThrownBy(
            () ->
                valid()
                    .groupBy(GroupBy.header("tenant"))
                    .partitionIdleMs(10_000)
                    .windowIdleCloseMs(10_000)
                    .build())
        .hasMessageContaining("correlator.window.idle.close.ms (10000) must be 0 or greater than")
        .hasMessageContaining("correlator.partition.idle.ms (10000)");
    assertThat(
            valid()
                .groupBy(GroupBy.header("tenant"))
                .partitionIdleMs(10_000)
                .windowIdleCloseMs(0)
                .build()
                .windowIdleCloseMs())
        .isZero();
  }

  @Test
  void groupByParsesItsThreeForms() {
    assertThat(GroupBy.parse("key")).isEqualTo(GroupBy.recordKey());
    assertThat(GroupBy.parse("header:tenant")).isEqualTo(GroupBy.header("tenant"));
    assertThat(GroupBy.parse("field:customer.id")).isEqualTo(GroupBy.valueField("customer.id"));
    assertThatThrownBy(() -> GroupBy.parse("value"))
        .hasMessageContaining("correlator.group.by must be key, header:NAME or field:PATH");
    assertThatThrownBy(() -> GroupBy.parse("header:")).hasMessageContaining("needs a name");
  }
}
