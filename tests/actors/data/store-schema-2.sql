-- An assocsim store of schema version 2 with rows in wire version 2, written by
-- actors.SqliteStore at commit 93c1507 (the last before wire version 3) and dumped with sqlite3's
-- iterdump: receipt R1 of two merchants, a subscription, a pending push, a delivery, an
-- outgoing dual-send push, a matching relation and a merchant's promotions.
BEGIN TRANSACTION;
CREATE TABLE bindings (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        stored_at NOT NULL,
        upload TEXT NOT NULL,
        UNIQUE (merchant_id, receipt_id)
    );
INSERT INTO "bindings" VALUES(1,'shop-01','R1','+8613800000001',100.5,'{"v":2,"type":"purchase-upload","body":{"receipt_id":"R1","merchant_id":"shop-01","pos_id":"pos-1","phone_id":"+8613800000001","items":[{"sku":"face-wash","name":"Face wash","category":"skincare","brand":"Acme","colour":"","quantity":1,"price":12.5}],"purchased_at":100.0}}');
INSERT INTO "bindings" VALUES(2,'shop-02','R1','+8613800000002',101.5,'{"v":2,"type":"purchase-upload","body":{"receipt_id":"R1","merchant_id":"shop-02","pos_id":"pos-9","phone_id":"+8613800000002","items":[{"sku":"jacket","name":"Jacket","category":"outerwear","brand":"Acme","colour":"","quantity":1,"price":80.0}],"purchased_at":101.0}}');
CREATE TABLE deliveries (
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        PRIMARY KEY (merchant_id, receipt_id, phone_id)
    ) WITHOUT ROWID;
INSERT INTO "deliveries" VALUES('shop-01','R1','+8613800000001');
CREATE TABLE matching_relations (
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        goods TEXT NOT NULL,
        associated TEXT NOT NULL,
        saved_at NOT NULL,
        PRIMARY KEY (merchant_id, receipt_id)
    ) WITHOUT ROWID;
INSERT INTO "matching_relations" VALUES('shop-01','R1','+8613800000001','["face-wash"]','["moisturiser"]',120.0);
CREATE TABLE outgoing (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        push TEXT NOT NULL,
        UNIQUE (merchant_id, receipt_id, phone_id)
    );
INSERT INTO "outgoing" VALUES(1,'shop-01','R1','+8613800000009','{"v":2,"type":"association-push","body":{"receipt_id":"R1","merchant_id":"shop-01","phone_id":"+8613800000009","reason":"dual-send","products":[{"sku":"moisturiser","name":"Moisturiser","category":"skincare","brand":"Acme","colour":"","price":15.0,"reason":"complement","score":0.75,"offer":null}]}}');
CREATE TABLE pending_pushes (
        seq INTEGER PRIMARY KEY,
        merchant_id TEXT NOT NULL,
        receipt_id TEXT NOT NULL,
        phone_id TEXT NOT NULL,
        deadline NOT NULL,
        UNIQUE (merchant_id, receipt_id)
    );
INSERT INTO "pending_pushes" VALUES(1,'shop-02','R1','+8613800000002',401.5);
CREATE TABLE promotions (
        merchant_id TEXT PRIMARY KEY,
        promotions TEXT NOT NULL
    ) WITHOUT ROWID;
INSERT INTO "promotions" VALUES('shop-01','{"merchant_id": "shop-01", "popular": ["face-wash"], "offers": [{"sku": "moisturiser", "description": "2 for 1", "price": 15.0}]}');
CREATE TABLE subscriptions (
        phone_id TEXT PRIMARY KEY,
        subscribed_at NOT NULL
    ) WITHOUT ROWID;
INSERT INTO "subscriptions" VALUES('+8613800000001',50.0);
COMMIT;
PRAGMA application_id = 1634955107;
PRAGMA user_version = 2;
