import assert from "node:assert/strict";
import { test } from "node:test";
import { BfclExecution } from "../executor.js";
import { pyFloat, type PyDict } from "../python/value.js";

function session(config: PyDict = {}, longContext = false) {
  const execution = new BfclExecution(
    { id: "unit_0", involved_classes: ["VehicleControlAPI"], initial_config: { VehicleControlAPI: config } },
    { longContext },
  );
  return { call: (text: string) => execution.executeText(text), state: () => execution.state().VehicleControlAPI! };
}

test("VehicleControlAPI: the public state, with engine_state from engineState and the private forces left out", () => {
  const car = session({ engineState: "running", doorStatus: { driver: "locked", passenger: "unlocked" }, remainingUnlockedDoors: 0 });
  const state = car.state();
  assert.deepEqual(Object.keys(state), [
    "fuelLevel", "batteryVoltage", "engine_state", "remainingUnlockedDoors", "doorStatus", "acTemperature", "fanSpeed",
    "acMode", "humidityLevel", "headLightStatus", "parkingBrakeStatus", "brakePedalStatus", "distanceToNextVehicle",
    "cruiseStatus", "destination", "frontLeftTirePressure", "frontRightTirePressure", "rearLeftTirePressure",
    "rearRightTirePressure", "long_context",
  ]);
  assert.equal(state.engine_state, "running");
  // The config's remainingUnlockedDoors is replaced by 4 minus the locked doors.
  assert.equal(state.remainingUnlockedDoors, 3);
  assert.deepEqual(state.fuelLevel, pyFloat(0));
});

test("VehicleControlAPI: starting the engine needs locked doors and a fully pressed brake", () => {
  const car = session({ fuelLevel: 10.5 });
  assert.equal(
    car.call("startEngine(ignitionMode='START')"),
    '{"error": "All doors must be locked before starting the engine. Here are the unlocked doors: driver, passenger, rear_left, rear_right"}',
  );
  assert.equal(car.call("lockDoors(unlock=False, door=['driver', 'trunk'])"), "Error during execution: 'trunk'");
  assert.equal(car.state().remainingUnlockedDoors, 3);
  assert.equal(
    car.call("lockDoors(False, ['driver', 'passenger', 'rear_left', 'rear_right'])"),
    '{"lockStatus": "locked", "remainingUnlockedDoors": 0}',
  );
  assert.equal(car.call("startEngine('START')"), '{"error": "Brake pedal needs to be pressed when starting the engine."}');
  assert.equal(car.call("pressBrakePedal(0.5)"), '{"brakePedalStatus": "pressed", "brakePedalForce": 500.0}');
  assert.equal(car.call("startEngine('START')"), '{"error": "Must press the brake fully before starting the engine."}');
  assert.equal(car.call("pressBrakePedal(pedalPosition=1.5)"), '{"error": "Pedal position must be between 0 and 1."}');
  // An int position gives an int force (1 * 1000), printed as a float only in the result, and 1000 == 1000.0.
  assert.equal(car.call("pressBrakePedal(pedalPosition=1)"), '{"brakePedalStatus": "pressed", "brakePedalForce": 1000.0}');
  assert.equal(car.call("displayCarStatus('brakePedal')"), '{"brakePedalStatus": "pressed", "brakePedalForce": 1000}');
  assert.equal(car.call("startEngine('START')"), '{"engineState": "running", "fuelLevel": 10.5, "batteryVoltage": 12.6}');
  assert.equal(car.call("startEngine('STOP')"), '{"error": "Invalid ignition mode."}');
  assert.equal(car.state().engine_state, "stopped");
});

test("VehicleControlAPI: fuel, climate and cruise control keep int and float apart", () => {
  const car = session({ fuelLevel: pyFloat(10), engineState: "running" });
  assert.equal(car.call("fillFuelTank(fuelAmount=45)"), '{"error": "Cannot fill gas above the tank capacity."}');
  assert.equal(car.call("fillFuelTank(fuelAmount=-1)"), '{"error": "Fuel amount cannot be negative."}');
  assert.equal(car.call("fillFuelTank(fuelAmount=30)"), '{"fuelLevel": 40.0}');
  assert.equal(car.call("adjustClimateControl(72, unit='fahrenheit')"), '{"currentACTemperature": 72, "climateMode": "auto", "humidityLevel": 50.0}');
  assert.deepEqual(car.state().acTemperature, pyFloat(((72 - 32) * 5) / 9));
  assert.equal(car.call("adjustClimateControl(20, fanSpeed=101)"), '{"error": "Fan speed must be between 0 and 100."}');
  assert.equal(car.call("setCruiseControl(speed=33, activate=True, distanceToNextVehicle=100)"), '{"error": "Invalid speed"}');
  assert.deepEqual(car.state().distanceToNextVehicle, pyFloat(100));
  assert.equal(
    car.call("setCruiseControl(65, True, 80)"),
    '{"cruiseStatus": "active", "currentSpeed": 65.0, "distanceToNextVehicle": 80.0}',
  );
  assert.equal(
    car.call("setCruiseControl(65, True, 'far')"),
    "Error during execution: could not convert string to float: 'far'",
  );
  assert.equal(car.call("liter_to_gallon(10)"), `{"gallon": ${10 * 0.264172}}`);
  assert.equal(car.call("estimate_drive_feasibility_by_mileage(800)"), '{"canDrive": true}');
  assert.equal(car.call("estimate_drive_feasibility_by_mileage(800.5)"), '{"canDrive": false}');
  assert.equal(session().call("setCruiseControl(65, True, 80)"), '{"error": "Start the engine before activating the cruise control."}');
});

test("VehicleControlAPI: the outside temperature is CPython's uniform(-10.0, 40.0) draw", () => {
  // random.Random(141053).uniform(-10.0, 40.0), twice (CPython 3.11).
  const car = session();
  assert.equal(car.call("get_outside_temperature_from_google()"), '{"outsideTemperature": 36.63485703790535}');
  assert.equal(car.call("get_outside_temperature_from_google()"), '{"outsideTemperature": 31.29968928699752}');
  assert.equal(car.call("get_outside_temperature_from_weather_com()"), '{"error": 404}');
  const longCar = session({}, true);
  const weather = longCar.call("get_outside_temperature_from_google()");
  assert.ok(weather.startsWith('{"-1_day": {"windSpeed": 15.0, '));
  assert.ok(weather.endsWith(', "outsideTemperature": 36.63485703790535}'));
});

test("VehicleControlAPI: long-context mode adds metadata, brake instructions and intermediary cities", () => {
  const car = session({}, true);
  assert.ok(car.call("displayCarStatus('fuel')").startsWith('{"metadata": "'));
  assert.ok(car.call("displayCarStatus('fuel')").endsWith('", "fuelLevel": 0.0}'));
  assert.equal(JSON.parse(car.call("displayCarStatus('wipers')")).error, "Invalid option");
  const brake = JSON.parse(car.call("activateParkingBrake('engage')"));
  assert.deepEqual(Object.keys(brake), ["parkingBrakeInstruction", "parkingBrakeStatus", "_parkingBrakeForce", "_slopeAngle"]);
  const missing = JSON.parse(car.call("estimate_distance('00000', '11111')"));
  assert.deepEqual(Object.keys(missing), ["error", "intermediaryCities"]);
  assert.equal(missing.intermediaryCities.length, 826);
  assert.equal(JSON.parse(car.call("estimate_distance(cityA='74532', cityB='83214')")).distance, 750);
  assert.equal(typeof JSON.parse(car.call("check_tire_pressure()")).car_info, "string");
  assert.equal(
    session().call("check_tire_pressure()"),
    '{"frontLeftTirePressure": 32.0, "frontRightTirePressure": 32.0, "rearLeftTirePressure": 30.0, ' +
      '"rearRightTirePressure": 30.0, "healthy_tire_pressure": true, "car_info": {}}',
  );
  assert.equal(session().call("activateParkingBrake('release')"), '{"parkingBrakeStatus": "released", "_parkingBrakeForce": 0.0, "_slopeAngle": 10.0}');
  assert.equal(session().call("activateParkingBrake('hold')"), '{"error": "Invalid mode"}');
});
