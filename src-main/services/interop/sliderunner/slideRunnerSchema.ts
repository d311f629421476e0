/**
 * SlideRunner's database (DeepMicroscopy/SlideRunner, SlideRunner_dataAccess), as its schema
 * grew from 2018 on: the first files had only the required columns below; guid, deleted,
 * lastModified, description, coordinateZ, exact_id, color, the EXACT columns and clickable came
 * later. `PRAGMA user_version` is 0 to 3; the current layout is version 3.
 */
export interface TableLayout {
  /** In every SlideRunner version. */
  required: readonly string[];
  /** Added by later versions; absent in older files. */
  optional: readonly string[];
}

export const slideRunnerTables = {
  Slides: { required: ['uid', 'filename'], optional: ['width', 'height', 'directory', 'EXACTUSER', 'uuid', 'exactImageID'] },
  Classes: { required: ['uid', 'name'], optional: ['color', 'clickable'] },
  Persons: { required: ['uid', 'name'], optional: ['isExactUser'] },
  Annotations: {
    required: ['uid', 'slide', 'type', 'agreedClass'],
    optional: ['guid', 'deleted', 'lastModified', 'description', 'clickable'],
  },
  Annotations_coordinates: {
    required: ['uid', 'coordinateX', 'coordinateY', 'annoId', 'orderIdx'],
    optional: ['slide', 'coordinateZ'],
  },
  Annotations_label: { required: ['uid', 'person', 'class', 'annoId'], optional: ['exact_id'] },
  /** SlideRunner recreates Log when it is missing, so older files may lack it. */
  Log: { required: [], optional: ['uid', 'dateTime', 'labelId'] },
} as const satisfies Record<string, TableLayout>;

export type SlideRunnerTable = keyof typeof slideRunnerTables;

export const optionalTables: readonly SlideRunnerTable[] = ['Log'];

/** Annotations.type. */
export const slideRunnerAnnotationType = {
  spot: 1,
  rectangle: 2,
  polygon: 3,
  /** A spot without class, for orientation; SlideRunner gives it no label. */
  specialSpot: 4,
  /** Stored as the two corners of the circle's bounding box. */
  circle: 5,
  /** A label for a whole image (frame); its coordinates are NULL. */
  imageLabel: 6,
} as const;

export const SLIDERUNNER_SCHEMA_VERSION = 3;

/** The current layout, as SlideRunner itself creates and migrates it. */
export const slideRunnerCreateStatements = [
  `CREATE TABLE \`Slides\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`filename\` TEXT, \`width\` INTEGER,
    \`height\` INTEGER, \`directory\` TEXT, \`EXACTUSER\` INTEGER DEFAULT 0, \`uuid\` TEXT, \`exactImageID\` TEXT)`,
  `CREATE TABLE \`Classes\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`name\` TEXT,
    \`clickable\` INTEGER DEFAULT 1, \`color\` TEXT)`,
  `CREATE TABLE \`Persons\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`name\` TEXT,
    \`isExactUser\` INTEGER DEFAULT 0)`,
  `CREATE TABLE \`Annotations\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`slide\` INTEGER, \`guid\` TEXT,
    \`lastModified\` REAL DEFAULT 0, \`deleted\` INTEGER DEFAULT 0, \`type\` INTEGER, \`agreedClass\` INTEGER,
    \`description\` TEXT, \`clickable\` INTEGER DEFAULT 1)`,
  `CREATE TABLE \`Annotations_coordinates\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`coordinateX\` INTEGER,
    \`coordinateY\` INTEGER, \`coordinateZ\` INTEGER DEFAULT 0, \`slide\` INTEGER, \`annoId\` INTEGER, \`orderIdx\` INTEGER)`,
  `CREATE TABLE \`Annotations_label\` (\`uid\` INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, \`person\` INTEGER,
    \`class\` INTEGER, \`exact_id\` INTEGER, \`annoId\` INTEGER)`,
  'CREATE TABLE `Log` (`uid` INTEGER PRIMARY KEY AUTOINCREMENT, `dateTime` FLOAT, `labelId` INTEGER)',
  // SlideRunner's triggers: they call functions that SlideRunner registers on its connection.
  ...['INSERT', 'UPDATE'].flatMap((event) => [
    `CREATE TRIGGER updateAnnotation_fromLabel${event} AFTER ${event} ON Annotations_label
      BEGIN UPDATE Annotations SET lastModified=pycurrent_time() WHERE uid==new.annoId; END`,
    `CREATE TRIGGER updateAnnotation_fromCoords${event} AFTER ${event} ON Annotations_coordinates
      BEGIN UPDATE Annotations SET lastModified=pycurrent_time() WHERE uid==new.annoId; END`,
    `CREATE TRIGGER updateAnnotation_${event} AFTER ${event} ON Annotations
      BEGIN UPDATE Annotations SET lastModified=pycurrent_time() WHERE uid==new.uid; END`,
  ]),
  `CREATE TRIGGER updateAnnotation_ins AFTER INSERT ON Annotations
    BEGIN UPDATE Annotations SET guid=generate_uuid() WHERE uid==new.uid AND guid IS NULL; END`,
  `CREATE TRIGGER setRandomcolor AFTER INSERT ON Classes
    BEGIN UPDATE Classes SET color=randcolor() WHERE uid==new.uid AND color IS NULL; END`,
];
