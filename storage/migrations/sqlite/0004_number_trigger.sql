-- v4: the per-month ticket counter advances in a trigger, so a ticket (number included)
-- is inserted in a single statement: number = period || '-' || (counter + 1).

CREATE TRIGGER tickets_number_counter AFTER INSERT ON tickets
BEGIN
    INSERT INTO counters (name, value) VALUES ('ticket:' || substr(NEW.number, 1, 4), 1)
        ON CONFLICT (name) DO UPDATE SET value = value + 1;
END;
