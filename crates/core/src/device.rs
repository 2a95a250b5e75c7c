//! Medical devices a child lives on. The disaster plans use the power draw and battery
//! hours; the registry only records them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Ventilator,
    OxygenConcentrator,
    OxygenCylinder,
    Suction,
    FeedingPump,
    PulseOximeter,
    Monitor,
    Nebulizer,
    CoughAssist,
    InfusionPump,
    Other,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 11] = [
        DeviceKind::Ventilator,
        DeviceKind::OxygenConcentrator,
        DeviceKind::OxygenCylinder,
        DeviceKind::Suction,
        DeviceKind::FeedingPump,
        DeviceKind::PulseOximeter,
        DeviceKind::Monitor,
        DeviceKind::Nebulizer,
        DeviceKind::CoughAssist,
        DeviceKind::InfusionPump,
        DeviceKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DeviceKind::Ventilator => "ventilator",
            DeviceKind::OxygenConcentrator => "oxygen_concentrator",
            DeviceKind::OxygenCylinder => "oxygen_cylinder",
            DeviceKind::Suction => "suction",
            DeviceKind::FeedingPump => "feeding_pump",
            DeviceKind::PulseOximeter => "pulse_oximeter",
            DeviceKind::Monitor => "monitor",
            DeviceKind::Nebulizer => "nebulizer",
            DeviceKind::CoughAssist => "cough_assist",
            DeviceKind::InfusionPump => "infusion_pump",
            DeviceKind::Other => "other",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DeviceKind::Ventilator => "人工呼吸器",
            DeviceKind::OxygenConcentrator => "酸素濃縮装置",
            DeviceKind::OxygenCylinder => "酸素ボンベ",
            DeviceKind::Suction => "吸引器",
            DeviceKind::FeedingPump => "経管栄養ポンプ",
            DeviceKind::PulseOximeter => "パルスオキシメーター",
            DeviceKind::Monitor => "生体モニター",
            DeviceKind::Nebulizer => "ネブライザー",
            DeviceKind::CoughAssist => "排痰補助装置",
            DeviceKind::InfusionPump => "輸液ポンプ",
            DeviceKind::Other => "その他",
        }
    }

    /// The kind's bit in the stored device mask (`children.device_mask`); never change one
    /// once shipped (migration 08 backfills with these values).
    pub fn bit(self) -> i64 {
        1 << match self {
            DeviceKind::Ventilator => 0,
            DeviceKind::OxygenConcentrator => 1,
            DeviceKind::OxygenCylinder => 2,
            DeviceKind::Suction => 3,
            DeviceKind::FeedingPump => 4,
            DeviceKind::PulseOximeter => 5,
            DeviceKind::Monitor => 6,
            DeviceKind::Nebulizer => 7,
            DeviceKind::CoughAssist => 8,
            DeviceKind::InfusionPump => 9,
            DeviceKind::Other => 10,
        }
    }

    /// The mask of a set of kinds (a child may have two of one kind: the bit is set once).
    pub fn mask<'a>(kinds: impl IntoIterator<Item = &'a DeviceKind>) -> i64 {
        kinds.into_iter().fold(0, |mask, kind| mask | kind.bit())
    }

    /// By code or by the Japanese name (imports carry either).
    pub fn parse(text: &str) -> Option<DeviceKind> {
        let text = text.trim();
        DeviceKind::ALL
            .into_iter()
            .find(|k| k.code() == text || k.label_ja() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for kind in DeviceKind::ALL {
            assert_eq!(DeviceKind::parse(kind.code()), Some(kind));
            assert_eq!(DeviceKind::parse(kind.label_ja()), Some(kind));
        }
        assert_eq!(DeviceKind::parse("掃除機"), None);
    }

    #[test]
    fn every_kind_has_its_own_bit() {
        let all = DeviceKind::mask(&DeviceKind::ALL);
        assert_eq!(all.count_ones() as usize, DeviceKind::ALL.len());
        assert_eq!(
            DeviceKind::mask(&[DeviceKind::Suction, DeviceKind::Suction]),
            DeviceKind::Suction.bit()
        );
    }
}
