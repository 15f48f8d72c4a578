package io.linkcorrelator.serdes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.linkcorrelator.schemas.MessageRef;
import io.linkcorrelator.schemas.Order;
import io.linkcorrelator.schemas.SpanId;
import io.linkcorrelator.schemas.TraceId;
import io.linkcorrelator.schemas.WindowResult;
import io.linkcorrelator.schemas.WindowType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class AvroSerdeTest {

  static WindowResult sampleResult() {
    return WindowResult.newBuilder()
        .setGroupKey("customer-7")
        .setWindowStart(Instant.ofEpochMilli(1_700_000_000_000L))
        .setWindowEnd(Instant.ofEpochMilli(1_700_000_060_000L))
        .setWindowType(WindowType.TUMBLING)
        .setMessageCount(3)
        .setFirstEventTime(Instant.ofEpochMilli(1_700_000_001_000L))
        .setLastEventTime(Instant.ofEpochMilli(1_700_000_059_000L))
        .setAggregateField("amount")
        .setSum(60.5)
        .setMin(10.0)
        .setMax(30.25)
        .setLinkedCount(2)
        .setUnlinkedCount(1)
        .setTraceId("0af7651916cd43dd8448eb211c80319c")
        .setSpanId("b7ad6b7169203331")
        .build();
  }

  @Test
  void roundTripsEveryGeneratedType() {
    WindowResult result = sampleResult();
    AvroSerde<WindowResult> results = AvroSerde.of(WindowResult.class);
    assertThat(results.deserialize("out", results.serialize("out", result))).isEqualTo(result);

    MessageRef ref =
        MessageRef.newBuilder()
            .setTopic("orders")
            .setPartition(3)
            .setOffset(42L)
            .setTimestamp(Instant.ofEpochMilli(1_700_000_001_000L))
            .setTraceId(
                new TraceId(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
            .setSpanId(new SpanId(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
            .setTraceFlags(1)
            .setTraceState("dd=s:1")
            .build();
    AvroSerde<MessageRef> refs = AvroSerde.of(MessageRef.class);
    assertThat(refs.deserialize("state", refs.serialize("state", ref))).isEqualTo(ref);

    Order order = Order.newBuilder().setOrderId("o-1").setCustomerId("c-1").setAmount(9.99).build();
    AvroSerde<Order> orders = AvroSerde.of(Order.class);
    assertThat(orders.deserialize("orders", orders.serialize("orders", order))).isEqualTo(order);
  }

  @Test
  void writesSingleObjectEncodingWithTheSchemaFingerprint() {
    byte[] bytes = AvroSerde.of(Order.class).serialize("orders", sampleOrder());
    assertThat(bytes[0]).isEqualTo((byte) 0xC3);
    assertThat(bytes[1]).isEqualTo((byte) 0x01);
    long fingerprint = org.apache.avro.SchemaNormalization.parsingFingerprint64(Order.SCHEMA$);
    assertThat(
            java.nio.ByteBuffer.wrap(bytes, 2, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong())
        .isEqualTo(fingerprint);
  }

  @Test
  void aGenericSerdeReadsWhatTheGeneratedClassWroteIncludingOlderVersions() throws IOException {
    AvroSerde<GenericRecord> generic = AvroSerde.generic(Order.SCHEMA$);

    GenericRecord read =
        generic.deserialize("orders", AvroSerde.of(Order.class).serialize("orders", sampleOrder()));
    GenericRecord fromV1 =
        generic.deserialize(
            "orders",
            encodeGeneric(
                historySchema("io.linkcorrelator.schemas.Order.v1.avsc"),
                new GenericRecordBuilder(historySchema("io.linkcorrelator.schemas.Order.v1.avsc"))
                    .set("orderId", "o-2")
                    .set("customerId", "c-2")
                    .set("amount", 1.5)
                    .build()));

    assertThat(read.get("customerId")).isEqualTo("c-1");
    assertThat(read.get("amount")).isEqualTo(9.99);
    assertThat(fromV1.get("channel")).hasToString("web");
    assertThat(AvroSerde.of(Order.class).deserialize("orders", generic.serialize("orders", read)))
        .isEqualTo(sampleOrder());
  }

  @Test
  void nullIsATombstoneBothWays() {
    AvroSerde<Order> serde = AvroSerde.of(Order.class);
    assertThat(serde.serialize("orders", null)).isNull();
    assertThat(serde.deserialize("orders", null)).isNull();
  }

  @Test
  void readsARecordWrittenWithTheOlderSchemaVersionFillingTheNewFieldsDefault() throws IOException {
    Schema v1 = historySchema("io.linkcorrelator.schemas.Order.v1.avsc");
    assertThat(v1.getField("channel")).as("v1 predates the channel field").isNull();
    GenericRecord written =
        new GenericRecordBuilder(v1)
            .set("orderId", "o-1")
            .set("customerId", "c-9")
            .set("amount", 12.5)
            .set("currency", "USD")
            .build();
    byte[] v1Bytes = encodeGeneric(v1, written);

    Order read = AvroSerde.of(Order.class).deserialize("orders", v1Bytes);

    assertThat(read.getOrderId()).isEqualTo("o-1");
    assertThat(read.getCustomerId()).isEqualTo("c-9");
    assertThat(read.getAmount()).isEqualTo(12.5);
    assertThat(read.getCurrency()).isEqualTo("USD");
    assertThat(read.getChannel()).as("default of the field added in v2").isEqualTo("web");
  }

  @Test
  void findsTheOlderVersionsOnTheClassPath() {
    assertThat(AvroSerde.olderSchemas(Order.SCHEMA$)).hasSize(1);
    assertThat(AvroSerde.olderSchemas(WindowResult.SCHEMA$)).isEmpty();
  }

  @Test
  void anUnknownWriterSchemaIsAClearError() {
    Schema stranger =
        new Schema.Parser()
            .parse(
                "{\"type\":\"record\",\"name\":\"Order\",\"namespace\":\"io.linkcorrelator.schemas\","
                    + "\"fields\":[{\"name\":\"orderId\",\"type\":\"long\"}]}");
    byte[] bytes =
        encodeGeneric(stranger, new GenericRecordBuilder(stranger).set("orderId", 1L).build());

    assertThatThrownBy(() -> AvroSerde.of(Order.class).deserialize("orders", bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown writer schema fingerprint")
        .hasMessageContaining("topic orders");
  }

  static Order sampleOrder() {
    return Order.newBuilder().setOrderId("o-1").setCustomerId("c-1").setAmount(9.99).build();
  }

  static byte[] encodeGeneric(Schema schema, GenericRecord record) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      new BinaryMessageEncoder<GenericRecord>(GenericData.get(), schema).encode(record, out);
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static Schema historySchema(String name) throws IOException {
    try (InputStream in =
        AvroSerdeTest.class.getClassLoader().getResourceAsStream(AvroSerde.HISTORY_PATH + name)) {
      return new Schema.Parser().parse(in);
    }
  }
}
