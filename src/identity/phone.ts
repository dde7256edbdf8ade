/** Mainland China mobile numbers: 11 digits from 13x to 19x; shown masked (`139****5678`). */
export const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;

export const maskPhone = (phone: string) => `${phone.slice(0, 3)}****${phone.slice(-4)}`;
