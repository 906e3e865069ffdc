package dev.orchestra.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.orchestra.OrchestraException;
import dev.orchestra.OrchestraInterruptedException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExceptionsTest {

  @AfterEach
  void clearInterruptFlag() {
    Thread.interrupted();
  }

  @Test
  void runtimeExceptionsPassThrough() {
    IllegalStateException e = new IllegalStateException("x");

    assertThat(Exceptions.launder("doing", e)).isSameAs(e);
  }

  @Test
  void errorsAreThrown() {
    assertThatThrownBy(() -> Exceptions.launder("doing", new AssertionError("boom")))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void interruptionsRestoreTheFlag() {
    RuntimeException e = Exceptions.launder("waiting for task t", new InterruptedException());

    assertThat(e)
        .isInstanceOf(OrchestraInterruptedException.class)
        .hasMessage("waiting for task t was interrupted");
    assertThat(Thread.currentThread().isInterrupted()).isTrue();
  }

  @Test
  void interruptedIoIsAnInterruptionButATimeoutIsNot() {
    assertThat(Exceptions.launder("x", new InterruptedIOException()))
        .isInstanceOf(OrchestraInterruptedException.class);
    Thread.interrupted();
    assertThat(Exceptions.launder("x", new SocketTimeoutException("slow")))
        .isExactlyInstanceOf(OrchestraException.class);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }

  @Test
  void checkedExceptionsAreWrappedOnceAndExecutionExceptionsUnwrapped() {
    IOException io = new IOException("disk full");

    RuntimeException e = Exceptions.launder("writing logs", new ExecutionException(io));

    assertThat(e).isExactlyInstanceOf(OrchestraException.class).hasCause(io);
    assertThat(e.getMessage()).contains("writing logs", "disk full");
  }
}
