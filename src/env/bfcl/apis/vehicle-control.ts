// BFCL's VehicleControlAPI (a car: engine, doors, climate, brakes, navigation), written from BFCL's Python
// backend: the same checks in the same order, the same result dicts and error texts, int and float kept as
// Python types them (fuelLevel 10.0 stays a float), the seeded temperature and speed draws, and the
// long-context result changes. The parking-brake force, slope angle and brake-pedal force are private.
import { PyRandom } from "../python/random.js";
import { describePyType, isPyDict, pyFloat, type PyDict, type PyValue } from "../python/value.js";
import { longContextConstants } from "./long-context-constants.js";
import { arg, method } from "./method-table.js";
import {
  getItem,
  pyAdd,
  pyCompare,
  pyContains,
  pyEquals,
  pyIterate,
  pyMul,
  pySub,
  pyToFloat,
  pyTrueDiv,
  pyTruthy,
} from "./python-ops.js";
import { BfclCallError, type BfclApi, type BfclApiClass, type BfclMethod } from "./types.js";

const MAX_FUEL_LEVEL = 50;
const MIN_FUEL_LEVEL = pyFloat(0);
const MILE_PER_GALLON = pyFloat(20);
const FULL_BRAKE_FORCE = 1000;
const TIRE_SHOP = "456 Oakwood Avenue, Rivermist, 83214";

/** Distances in km between zip codes; either order matches. */
const DISTANCES: Array<[string, string, number]> = [
  ["83214", "74532", 750],
  ["56108", "62947", 320],
  ["71354", "83462", 450],
  ["47329", "52013", 290],
  ["69238", "51479", 630],
  ["94016", "83214", 980],
  ["94016", "94704", 600],
  ["94704", "08540", 2550],
  ["94016", "08540", 1950],
  ["62947", "47329", 1053],
  ["94016", "62947", 780],
  ["74532", "94016", 880],
];

const ZIPCODES: Record<string, string> = {
  Rivermist: "83214",
  Stonebrook: "74532",
  Maplecrest: "56108",
  Silverpine: "62947",
  Shadowridge: "71354",
  "Sunset Valley": "83462",
  Oakendale: "47329",
  Willowbend: "52013",
  "Crescent Hollow": "69238",
  Autumnville: "51479",
  "San Francisco": "94016",
};

/** A fresh copy of the Python DEFAULT_STATE; integral floats are boxed so they print as floats. */
function defaultState(): PyDict {
  return {
    random_seed: 141053,
    fuelLevel: pyFloat(0),
    batteryVoltage: 12.6,
    engine_state: "stopped",
    remainingUnlockedDoors: 4,
    doorStatus: { driver: "unlocked", passenger: "unlocked", rear_left: "unlocked", rear_right: "unlocked" },
    acTemperature: pyFloat(25),
    fanSpeed: 50,
    acMode: "auto",
    humidityLevel: pyFloat(50),
    headLightStatus: "off",
    parkingBrakeStatus: "released",
    _parkingBrakeForce: pyFloat(0),
    _slopeAngle: pyFloat(0),
    brakePedalStatus: "released",
    brakePedalForce: pyFloat(0),
    distanceToNextVehicle: pyFloat(50),
    cruiseStatus: "inactive",
    destination: "None",
    frontLeftTirePressure: pyFloat(32),
    frontRightTirePressure: pyFloat(32),
    rearLeftTirePressure: pyFloat(30),
    rearRightTirePressure: pyFloat(30),
  };
}

function doorDict(value: PyValue): PyDict {
  if (isPyDict(value)) return value;
  throw new BfclCallError(`'${describePyType(value)}' object has no attribute 'items'`);
}

class VehicleControlApi implements BfclApi {
  private random = new PyRandom(141053);
  // Public attributes, in the order `_load_scenario` creates them (see state()).
  private fuelLevel: PyValue = pyFloat(0);
  private batteryVoltage: PyValue = 12.6;
  private engineState: PyValue = "stopped";
  private remainingUnlockedDoors: PyValue = 4;
  private doorStatus: PyValue = {};
  private acTemperature: PyValue = pyFloat(25);
  private fanSpeed: PyValue = 50;
  private acMode: PyValue = "auto";
  private humidityLevel: PyValue = pyFloat(50);
  private headLightStatus: PyValue = "off";
  private parkingBrakeStatus: PyValue = "released";
  private parkingBrakeForce: PyValue = pyFloat(0);
  private slopeAngle: PyValue = pyFloat(0);
  private brakePedalStatus: PyValue = "released";
  private brakePedalForce: PyValue = pyFloat(0);
  private distanceToNextVehicle: PyValue = pyFloat(50);
  private cruiseStatus: PyValue = "inactive";
  private destination: PyValue = "None";
  private frontLeftTirePressure: PyValue = pyFloat(32);
  private frontRightTirePressure: PyValue = pyFloat(32);
  private rearLeftTirePressure: PyValue = pyFloat(30);
  private rearRightTirePressure: PyValue = pyFloat(30);
  private longContext = false;

  readonly methods: Record<string, BfclMethod> = {
    startEngine: method("ignitionMode", (a) => this.startEngine(a.ignitionMode)),
    fillFuelTank: method("fuelAmount", (a) => this.fillFuelTank(a.fuelAmount)),
    lockDoors: method("unlock, door", (a) => this.lockDoors(a.unlock, a.door)),
    adjustClimateControl: method("temperature, unit=, fanSpeed=, mode=", (a) =>
      this.adjustClimateControl(a.temperature, arg(a, "unit", "celsius"), arg(a, "fanSpeed", 50), arg(a, "mode", "auto")),
    ),
    get_outside_temperature_from_google: method("", () => this.outsideTemperatureFromGoogle()),
    get_outside_temperature_from_weather_com: method("", () => ({ error: 404 })),
    setHeadlights: method("mode", (a): PyValue => {
      if (!pyContains(["on", "off", "auto"], a.mode)) return { error: "Invalid headlight mode." };
      this.headLightStatus = pyEquals(a.mode, "on") ? "on" : "off";
      return { headlightStatus: this.headLightStatus };
    }),
    displayCarStatus: method("option", (a) => this.displayCarStatus(a.option)),
    activateParkingBrake: method("mode", (a) => this.activateParkingBrake(a.mode)),
    pressBrakePedal: method("pedalPosition", (a) => this.pressBrakePedal(a.pedalPosition)),
    releaseBrakePedal: method("", () => {
      this.brakePedalStatus = "released";
      this.brakePedalForce = pyFloat(0);
      return { brakePedalStatus: "released", brakePedalForce: pyFloat(0) };
    }),
    setCruiseControl: method("speed, activate, distanceToNextVehicle", (a) =>
      this.setCruiseControl(a.speed, a.activate, a.distanceToNextVehicle),
    ),
    get_current_speed: method("", () => ({ currentSpeed: pyFloat(this.random.uniform(0, 120)) })),
    display_log: method("messages", (a) => ({ log: a.messages })),
    estimate_drive_feasibility_by_mileage: method("distance", (a) => ({
      canDrive: !pyCompare(pyMul(this.fuelLevel, MILE_PER_GALLON), "<", a.distance),
    })),
    liter_to_gallon: method("liter", (a) => ({ gallon: pyMul(a.liter, pyFloat(0.264172)) })),
    gallon_to_liter: method("gallon", (a) => ({ liter: pyMul(a.gallon, pyFloat(3.78541)) })),
    estimate_distance: method("cityA, cityB", (a) => this.estimateDistance(a.cityA, a.cityB)),
    get_zipcode_based_on_city: method("city", (a) => ({
      zipcode: typeof a.city === "string" && Object.hasOwn(ZIPCODES, a.city) ? ZIPCODES[a.city]! : "00000",
    })),
    set_navigation: method("destination", (a) => {
      this.destination = a.destination;
      return { status: pyAdd("Navigating to ", a.destination) };
    }),
    check_tire_pressure: method("", () => this.checkTirePressure()),
    find_nearest_tire_shop: method("", () => ({ shopLocation: TIRE_SHOP })),
  };

  loadScenario(config: PyDict, longContext: boolean): void {
    const scenario = config;
    const defaults = defaultState();
    const get = (key: string, defaultKey = key): PyValue => (Object.hasOwn(scenario, key) ? scenario[key]! : defaults[defaultKey]!);
    this.random = new PyRandom(get("random_seed") as number);
    this.fuelLevel = get("fuelLevel");
    this.batteryVoltage = get("batteryVoltage");
    this.engineState = get("engineState", "engine_state");
    this.doorStatus = get("doorStatus");
    // The config's remainingUnlockedDoors is read and then overwritten from the door states.
    const doors = doorDict(this.doorStatus);
    this.remainingUnlockedDoors = 4 - Object.values(doors).filter((status) => pyEquals(status, "locked")).length;
    this.acTemperature = get("acTemperature");
    this.fanSpeed = get("fanSpeed");
    this.acMode = get("acMode");
    this.humidityLevel = get("humidityLevel");
    this.headLightStatus = get("headLightStatus");
    this.parkingBrakeStatus = get("parkingBrakeStatus");
    this.parkingBrakeForce = get("parkingBrakeForce", "_parkingBrakeForce");
    this.slopeAngle = get("slopeAngle", "_slopeAngle");
    this.brakePedalStatus = get("brakePedalStatus");
    this.brakePedalForce = get("brakePedalForce");
    this.distanceToNextVehicle = get("distanceToNextVehicle");
    this.cruiseStatus = get("cruiseStatus");
    this.destination = get("destination");
    this.frontLeftTirePressure = get("frontLeftTirePressure");
    this.frontRightTirePressure = get("frontRightTirePressure");
    this.rearLeftTirePressure = get("rearLeftTirePressure");
    this.rearRightTirePressure = get("rearRightTirePressure");
    this.longContext = longContext;
  }

  state(): PyDict {
    return {
      fuelLevel: this.fuelLevel,
      batteryVoltage: this.batteryVoltage,
      engine_state: this.engineState,
      remainingUnlockedDoors: this.remainingUnlockedDoors,
      doorStatus: this.doorStatus,
      acTemperature: this.acTemperature,
      fanSpeed: this.fanSpeed,
      acMode: this.acMode,
      humidityLevel: this.humidityLevel,
      headLightStatus: this.headLightStatus,
      parkingBrakeStatus: this.parkingBrakeStatus,
      brakePedalStatus: this.brakePedalStatus,
      distanceToNextVehicle: this.distanceToNextVehicle,
      cruiseStatus: this.cruiseStatus,
      destination: this.destination,
      frontLeftTirePressure: this.frontLeftTirePressure,
      frontRightTirePressure: this.frontRightTirePressure,
      rearLeftTirePressure: this.rearLeftTirePressure,
      rearRightTirePressure: this.rearRightTirePressure,
      long_context: this.longContext,
    };
  }

  private startEngine(ignitionMode: PyValue): PyValue {
    if (pyEquals(ignitionMode, "STOP")) this.engineState = "stopped";
    if (pyCompare(this.remainingUnlockedDoors, ">", 0)) {
      const unlocked = Object.entries(doorDict(this.doorStatus))
        .filter(([, status]) => pyEquals(status, "unlocked"))
        .map(([door]) => door);
      return { error: `All doors must be locked before starting the engine. Here are the unlocked doors: ${unlocked.join(", ")}` };
    }
    if (!pyEquals(this.brakePedalStatus, "pressed")) return { error: "Brake pedal needs to be pressed when starting the engine." };
    if (!pyEquals(this.brakePedalForce, FULL_BRAKE_FORCE)) return { error: "Must press the brake fully before starting the engine." };
    if (pyCompare(this.fuelLevel, "<", MIN_FUEL_LEVEL)) return { error: "Fuel tank is empty." };
    if (!pyEquals(ignitionMode, "START")) return { error: "Invalid ignition mode." };
    this.engineState = "running";
    return { engineState: this.engineState, fuelLevel: this.fuelLevel, batteryVoltage: this.batteryVoltage };
  }

  private fillFuelTank(fuelAmount: PyValue): PyValue {
    if (pyCompare(fuelAmount, "<", 0)) return { error: "Fuel amount cannot be negative." };
    if (pyCompare(pyAdd(this.fuelLevel, fuelAmount), ">", MAX_FUEL_LEVEL)) return { error: "Cannot fill gas above the tank capacity." };
    if (pyCompare(pyAdd(this.fuelLevel, fuelAmount), "<", MIN_FUEL_LEVEL)) {
      return { error: "Fuel tank is empty. Min fuel level is 0 gallons." };
    }
    this.fuelLevel = pyAdd(this.fuelLevel, fuelAmount, "+=");
    return { fuelLevel: this.fuelLevel };
  }

  private lockDoors(unlock: PyValue, doors: PyValue): PyValue {
    const status = pyTruthy(unlock) ? "unlocked" : "locked";
    const doorStatus = doorDict(this.doorStatus);
    for (const door of pyIterate(doors)) {
      if (pyEquals(getItem(doorStatus, door), status)) continue;
      doorStatus[door as string] = status;
      this.remainingUnlockedDoors = status === "unlocked" ? pyAdd(this.remainingUnlockedDoors, 1, "+=") : pySub(this.remainingUnlockedDoors, 1, "-=");
    }
    return { lockStatus: status, remainingUnlockedDoors: this.remainingUnlockedDoors };
  }

  private adjustClimateControl(temperature: PyValue, unit: PyValue, fanSpeed: PyValue, mode: PyValue): PyValue {
    if (!(pyCompare(0, "<=", fanSpeed) && pyCompare(fanSpeed, "<=", 100))) return { error: "Fan speed must be between 0 and 100." };
    this.acTemperature = temperature;
    if (pyEquals(unit, "fahrenheit")) this.acTemperature = pyTrueDiv(pyMul(pySub(temperature, 32), 5), 9);
    this.fanSpeed = fanSpeed;
    this.acMode = mode;
    return { currentACTemperature: temperature, climateMode: mode, humidityLevel: this.humidityLevel };
  }

  private outsideTemperatureFromGoogle(): PyValue {
    const temperature = pyFloat(this.random.uniform(-10, 40));
    if (!this.longContext) return { outsideTemperature: temperature };
    // Upstream writes the draw into the module constant and returns it; the key lands last.
    return { ...(longContextConstants().LONG_WEATHER_EXTENSION as PyDict), outsideTemperature: temperature };
  }

  private displayCarStatus(option: PyValue): PyValue {
    const status: PyDict = {};
    if (this.longContext) status.metadata = longContextConstants().CAR_STATUS_METADATA_EXTENSION!;
    switch (typeof option === "string" ? option : undefined) {
      case "fuel":
        status.fuelLevel = this.fuelLevel;
        break;
      case "battery":
        status.batteryVoltage = this.batteryVoltage;
        break;
      case "doors":
        status.doorStatus = this.doorStatus;
        break;
      case "climate":
        status.currentACTemperature = this.acTemperature;
        status.fanSpeed = this.fanSpeed;
        status.climateMode = this.acMode;
        status.humidityLevel = this.humidityLevel;
        break;
      case "headlights":
        status.headlightStatus = this.headLightStatus;
        break;
      case "parkingBrake":
        status.parkingBrakeStatus = this.parkingBrakeStatus;
        status.parkingBrakeForce = this.parkingBrakeForce;
        status.slopeAngle = this.slopeAngle;
        break;
      case "brakePedal":
        status.brakePedalStatus = this.brakePedalStatus;
        status.brakePedalForce = this.brakePedalForce;
        break;
      case "engine":
        status.engineState = this.engineState;
        break;
      default:
        status.error = "Invalid option";
    }
    return status;
  }

  private activateParkingBrake(mode: PyValue): PyValue {
    if (!pyContains(["engage", "release"], mode)) return { error: "Invalid mode" };
    const engage = pyEquals(mode, "engage");
    this.parkingBrakeStatus = engage ? "engaged" : "released";
    this.parkingBrakeForce = pyFloat(engage ? 500 : 0);
    this.slopeAngle = pyFloat(10);
    const result: PyDict = {};
    if (this.longContext) result.parkingBrakeInstruction = longContextConstants().PARKING_BRAKE_INSTRUCTION!;
    result.parkingBrakeStatus = this.parkingBrakeStatus;
    result._parkingBrakeForce = pyFloat(engage ? 500 : 0);
    result._slopeAngle = pyFloat(10);
    return result;
  }

  private pressBrakePedal(pedalPosition: PyValue): PyValue {
    if (!(pyCompare(0, "<=", pedalPosition) && pyCompare(pedalPosition, "<=", 1))) {
      return { error: "Pedal position must be between 0 and 1." };
    }
    if (pyEquals(pedalPosition, 0)) {
      this.brakePedalStatus = "released";
      this.brakePedalForce = pyFloat(0);
      return { brakePedalStatus: "released", brakePedalForce: pyFloat(0) };
    }
    const force = pyMul(pedalPosition, FULL_BRAKE_FORCE);
    this.brakePedalStatus = "pressed";
    this.brakePedalForce = force;
    return { brakePedalStatus: "pressed", brakePedalForce: pyToFloat(force) };
  }

  private setCruiseControl(speedValue: PyValue, activate: PyValue, distanceValue: PyValue): PyValue {
    const distance = pyToFloat(distanceValue);
    const speed = pyToFloat(speedValue);
    if (pyEquals(this.engineState, "stopped")) return { error: "Start the engine before activating the cruise control." };
    this.distanceToNextVehicle = distance;
    if (!pyTruthy(activate)) {
      this.cruiseStatus = "inactive";
      return { cruiseStatus: "inactive", currentSpeed: speed, distanceToNextVehicle: distance };
    }
    if (speed.value < 0 || speed.value > 120 || speed.value % 5 !== 0) return { error: "Invalid speed" };
    this.cruiseStatus = "active";
    return { cruiseStatus: "active", currentSpeed: speed, distanceToNextVehicle: distance };
  }

  private estimateDistance(cityA: PyValue, cityB: PyValue): PyValue {
    const route = DISTANCES.find(([from, to]) => (cityA === from && cityB === to) || (cityA === to && cityB === from));
    const result: PyDict = route ? { distance: pyFloat(route[2]) } : { error: "distance not found in database." };
    if (this.longContext) result.intermediaryCities = longContextConstants().INTERMEDIARY_CITIES!;
    return result;
  }

  private checkTirePressure(): PyValue {
    const total = pyAdd(
      pyAdd(pyAdd(this.frontLeftTirePressure, this.frontRightTirePressure), this.rearLeftTirePressure),
      this.rearRightTirePressure,
    );
    const average = pyTrueDiv(total, 4);
    const healthy = pyCompare(30, "<=", average) && pyCompare(average, "<=", 35);
    return {
      frontLeftTirePressure: this.frontLeftTirePressure,
      frontRightTirePressure: this.frontRightTirePressure,
      rearLeftTirePressure: this.rearLeftTirePressure,
      rearRightTirePressure: this.rearRightTirePressure,
      healthy_tire_pressure: healthy,
      car_info: this.longContext ? longContextConstants().CAR_STATUS_METADATA_EXTENSION! : {},
    };
  }
}

export const VehicleControlAPI: BfclApiClass = {
  className: "VehicleControlAPI",
  docFile: "vehicle_control",
  create: () => new VehicleControlApi(),
};
