package dev.orchestra.local;

import dev.orchestra.Driver;
import dev.orchestra.Orchestra;
import dev.orchestra.tck.DriverTck;

/** The whole driver contract, against the local driver. */
class LocalDriverTckTest extends DriverTck {

  @Override
  protected Driver newDriver(String namespace) {
    return Orchestra.open("local", namespace);
  }
}
